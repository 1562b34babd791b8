#!/usr/bin/env python3
"""Measure which layer of advbench's checks catches which deliberate breakage.

For each breakage below, this script makes a throw-away copy of the
repository (git worktree at HEAD), applies the breakage as a source
substitution (refusing to go on if the text to replace is gone), builds
advbench and runs each layer:

  unit     go test -short ./...            (the unit tests, slow ones skipped)
  checks   the evaluation's own sanity checks: advbench eval of the exact
           layer's fixtures; a check that fails here but not on the unbroken
           code counts as caught
  exact    advbench regress --exact testdata/baselines/exact
  gate     advbench reproduce --preset ci (the CI gate's run), then
           advbench regress against the committed baseline

and prints a Markdown table (breakage x layer: caught / missed), the table
in docs/gate.md. Every layer runs against the unbroken code first: a layer
that fails there is reported and the script stops.

Run from the repository root (2 cores: about 15 minutes per breakage with
the gate, 3 without):

    python3 scripts/gate_breakages.py [--no-gate] [--only NAME,...] [--data ../shared/cifar10]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

# name -> (what it breaks, [(file, old, new)])
BREAKAGES = {
    "stale running stats": (
        "BatchNorm-family running statistics never move (momentum 1e-30 instead of 0.1)",
        [("norms/norm.go", "c.Momentum = 0.1", "c.Momentum = 1e-30")]),
    "dropped sandwich affine": (
        "SaAuxBN applies only the per-branch affine, not the shared sandwich one",
        [("norms/saauxbn.go",
          "return []*nn.Var{e}, []affineRef{embedRow(0, cfg.Branches, cfg.Channels), embedRow(0, int(b), cfg.Channels)}",
          "return []*nn.Var{e}, []affineRef{embedRow(0, int(b), cfg.Channels)}")]),
    "swapped branch statistics": (
        "evaluation mode normalises branch i with the other branch's running statistics",
        [("norms/bnfamily.go", "\t\tst = f.stats[b]\n", "\t\tst = f.stats[b]\n\t\tif m == nn.Eval {\n\t\t\tst = f.stats[1-b]\n\t\t}\n")]),
    "PGD step sign flipped": (
        "PGD descends the loss: cur -= step*sign(grad)",
        [("attack/pgd.go", "cur[i] += step * sign(g)", "cur[i] -= step * sign(g)")]),
    "projection dropped": (
        "PGD never projects back onto the eps-ball (nor clamps to [0,1])",
        [("attack/pgd.go", "\tproject(cur, x, p.Eps)\n\treturn grad, logits, nil", "\treturn grad, logits, nil")]),
    "eval in train mode": (
        "evaluation scores and attacks in training mode (batch statistics)",
        [("evaluate/evaluate.go", "attack.Setting{Branch: bj.branch, Mode: nn.Eval}", "attack.Setting{Branch: bj.branch, Mode: nn.Train}")]),
}

EXACT = "testdata/baselines/exact"


def run(cmd, cwd, log):
    t = time.time()
    with open(log, "w") as f:
        rc = subprocess.call(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, shell=isinstance(cmd, str))
    return rc, time.time() - t


def layers(tree, work, data, baseline, gate, known_checks):
    """Runs every layer in tree; returns {layer: (caught, detail)} and the
    failed checks. A check counts as catching a breakage only if it did not
    fail on the unbroken code too (known_checks)."""
    out = {}
    exe = os.path.join(work, "advbench")
    rc, _ = run(["go", "build", "-o", exe, "./cmd/advbench"], tree, os.path.join(work, "build.log"))
    if rc != 0:
        raise SystemExit("build failed: see " + os.path.join(work, "build.log"))
    rc, secs = run(["go", "test", "-short", "-count=1", "./..."], tree, os.path.join(work, "unit.log"))
    failing = [l.split()[1] for l in open(os.path.join(work, "unit.log")) if l.startswith("FAIL\t")]
    out["unit"] = (rc != 0, "%d packages fail: %s" % (len(failing), ", ".join(p.rsplit("/", 1)[-1] for p in failing)) if failing else "pass")
    # The evaluation's own checks, on the exact layer's fixtures.
    manifest = json.load(open(os.path.join(tree, EXACT, "exact.json")))
    failed = []
    for fx in manifest["fixtures"]:
        o = os.path.join(work, "checks", fx["name"])
        os.makedirs(o, exist_ok=True)
        rc, _ = run([exe, "eval", os.path.join(EXACT, fx["checkpoint"]), "--data", manifest["data"], "--test-n", str(manifest["test_n"]),
                     "--seed", str(manifest["seed"]), "--attacks", ",".join(manifest["attacks"]), "--out", o], tree, o + ".log")
        for fn in sorted(os.listdir(o)):
            if fn.endswith(".json") and not fn.startswith("."):
                r = json.load(open(os.path.join(o, fn)))
                for c in r.get("checks", []):
                    if not c["ok"]:
                        failed.append("%s/%s %s" % (fx["name"], fn[:-5], c["name"]))
    new = sorted(set(failed) - set(known_checks))
    out["checks"] = (bool(new), "; ".join(new) if new else "no check fails that passes unbroken")
    rc, _ = run([exe, "regress", "--exact", EXACT], tree, os.path.join(work, "exact.log"))
    lines = [l.strip() for l in open(os.path.join(work, "exact.log")) if "examples differ" in l]
    out["exact"] = (rc != 0, ("%d comparisons differ" % len(lines)) if rc != 0 else "identical")
    if gate:
        g = os.path.join(work, "gate")
        rc, _ = run([exe, "reproduce", "--preset", "ci", "--data", data, "--out", g], tree, os.path.join(work, "reproduce.log"))
        if rc != 0:
            out["gate"] = (True, "reproduce failed (exit %d)" % rc)
        else:
            rc, _ = run([exe, "regress", "--baseline", baseline, g], tree, os.path.join(work, "regress.log"))
            regs = [l.strip() for l in open(os.path.join(work, "regress.log")) if "regression" in l and "|" not in l]
            out["gate"] = (rc != 0, "exit %d: %s" % (rc, "; ".join(l for l in regs if "metrics failed" not in l)[:300]))
    return out, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-gate", action="store_true", help="skip the statistical gate (the slow layer)")
    ap.add_argument("--only", default="", help="comma-separated breakage names")
    ap.add_argument("--data", default="../shared/cifar10")
    ap.add_argument("--keep", action="store_true", help="keep the work directories")
    args = ap.parse_args()
    data = os.path.abspath(args.data) if os.path.exists(args.data) else "builtin"
    baseline = "testdata/baselines/ci-cifar10.json" if data != "builtin" else "testdata/baselines/ci-builtin.json"
    names = [n for n in BREAKAGES if not args.only or n in args.only.split(",")]
    root = tempfile.mkdtemp(prefix="advbench-breakages-")
    results = {}
    known = []
    try:
        for name in ["(none)"] + names:
            tree = os.path.join(root, "tree-%d" % len(results))
            subprocess.check_call(["git", "worktree", "add", "--detach", "-q", tree, "HEAD"])
            # Uncommitted work is measured too: copy the working tree's tracked changes.
            diff = subprocess.run(["git", "diff", "HEAD"], capture_output=True, check=True).stdout
            if diff:
                subprocess.run(["git", "apply", "-"], input=diff, cwd=tree, check=True)
            if name != "(none)":
                for path, old, new in BREAKAGES[name][1]:
                    p = os.path.join(tree, path)
                    src = open(p).read()
                    if src.count(old) != 1:
                        raise SystemExit("%s: %s: the text to replace occurs %d times; update this script" % (name, path, src.count(old)))
                    open(p, "w").write(src.replace(old, new))
            work = os.path.join(root, "work-%d" % len(results))
            os.makedirs(work)
            print("== %s (%s)" % (name, work), file=sys.stderr, flush=True)
            results[name], failed = layers(tree, work, data, baseline, not args.no_gate, known)
            if name == "(none)":
                known = failed
            print(json.dumps(results[name]), file=sys.stderr, flush=True)
            if name == "(none)" and any(caught for layer, (caught, _) in results[name].items() if layer != "checks"):
                raise SystemExit("a layer fails on the unbroken code: %s" % results[name])
            subprocess.check_call(["git", "worktree", "remove", "--force", tree])
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
            subprocess.call(["git", "worktree", "prune"])
    cols = ["unit", "checks", "exact"] + ([] if args.no_gate else ["gate"])
    print("| breakage | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    for name in names:
        cells = []
        for c in cols:
            caught, detail = results[name][c]
            cells.append(("**caught**: " if caught else "missed: ") + detail)
        print("| %s (%s) | %s |" % (name, BREAKAGES[name][0], " | ".join(cells)))


if __name__ == "__main__":
    main()
