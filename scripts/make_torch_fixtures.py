#!/usr/bin/env python3
"""Fixtures for advbench's PyTorch interop tests (interop/testdata), and the
check that an advbench export loads back into PyTorch.

Builds small (width 1/16) models with the reference code's architecture and
state-dict names (VITA-Group/Sandwich-Batch-Normalization, Adv/models: a
NormalizeByChannelMeanStd buffer pair `normal.mean`/`normal.std`, a 3x3 stem,
4 stages of 2 pre-activation blocks, `linear`; norms `bn` = BatchNorm2d,
`auxbn` = `bn_list.{0,1}` BatchNorm2d, `saauxbn` = `bn_list.{0,1}` BatchNorm2d
without affine plus `embed` = Embedding(3, 2C) whose last row is the shared
sandwich affine), written here from that description. Each model gets
non-trivial weights and running statistics (train-mode passes per branch), and
is saved in the layouts advbench must read:

  bn.pt           torch.save({"epoch": 7, "state_dict": sd})   (as Adv/train.py)
  bn.safetensors  the state dict in float64                    (conversion)
  auxbn.pt        a bare state dict with "module." prefixes    (DataParallel)
  auxbn.safetensors, saauxbn.pt, saauxbn.safetensors  bare state dicts

plus inputs.bin (4 images, float32 NCHW in [0,1]) and logits.json (PyTorch's
eval-mode logits of each model on each branch). Run with Debian's
python3-torch (CI needs none of this: the outputs are committed):

    /usr/bin/python3 scripts/make_torch_fixtures.py --out interop/testdata
    /usr/bin/python3 scripts/make_torch_fixtures.py --check-export exported.safetensors --norm saauxbn --out interop/testdata
    /usr/bin/python3 scripts/make_torch_fixtures.py --sgd-out train/testdata

--norms-out writes torch_norms.json (norms' TestMatchesPyTorch): the
layers without running statistics, each on a small float64 batch in
training and evaluation mode, with PyTorch's modules: none = nn.Identity,
gn = nn.GroupNorm(G, C) (G = 3 of 6 channels, and the default
min(32, C) = 32 of 64 channels, which the Go side must pick itself),
ln = nn.GroupNorm(1, C), in = nn.InstanceNorm2d(C, affine=True,
track_running_stats=False); per case the state-dict keys, the input, the
affine parameters, the output and, for loss = sum(r * y) with the stored
weights r, autograd's gradients of the input and parameters:

    /usr/bin/python3 scripts/make_torch_fixtures.py --norms-out norms/testdata

--sgd-out writes sgd.json: two steps of torch.optim.SGD (momentum 0.9,
weight decay 0.01, learning rates 0.1 then 0.05) in float64 on a parameter
w = [1, -2, 0.5] with gradients g1, g2, beside a parameter that never gets a
gradient; the weights and momentum buffer after each step (train's
TestSGDMatchesPyTorch).
"""
import argparse
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

WIDTH = 1 / 16
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


class AuxBN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bn_list = nn.ModuleList(nn.BatchNorm2d(c) for _ in range(2))

    def forward(self, x, branch):
        return self.bn_list[branch](x)


class SaAuxBN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.bn_list = nn.ModuleList(nn.BatchNorm2d(c, affine=False) for _ in range(2))
        self.embed = nn.Embedding(3, 2 * c)

    def forward(self, x, branch):
        h = self.bn_list[branch](x)
        for row in (2, branch):  # shared sandwich affine, then the branch's
            g, b = self.embed.weight[row].chunk(2)
            h = g.view(1, -1, 1, 1) * h + b.view(1, -1, 1, 1)
        return h


class BN(nn.BatchNorm2d):
    def forward(self, x, branch):
        return super().forward(x)


class NoNorm(nn.Identity):
    def forward(self, x, branch):
        return x


def gn_groups(c):
    """GroupNorm's group count in common CIFAR ResNet code: 32, or C below 32."""
    g = min(32, c)
    assert c % g == 0, f"{c} channels do not split into {g} groups"
    return g


class GN(nn.GroupNorm):
    def __init__(self, c):
        super().__init__(gn_groups(c), c)

    def forward(self, x, branch):
        return super().forward(x)


class LN(nn.GroupNorm):  # LayerNorm over (C, H, W) with a per-channel affine
    def __init__(self, c):
        super().__init__(1, c)

    def forward(self, x, branch):
        return super().forward(x)


class IN(nn.InstanceNorm2d):
    def __init__(self, c):
        super().__init__(c, affine=True, track_running_stats=False)

    def forward(self, x, branch):
        return super().forward(x)


# FIXTURE_NORMS have model fixtures (make); the others are for --check-export.
FIXTURE_NORMS = ("bn", "auxbn", "saauxbn")
NORMS = {"bn": BN, "auxbn": AuxBN, "saauxbn": SaAuxBN, "none": NoNorm, "gn": GN, "ln": LN, "in": IN}


class Block(nn.Module):
    def __init__(self, norm, cin, cout, stride):
        super().__init__()
        self.bn1 = norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False))

    def forward(self, x, branch):
        a = F.relu(self.bn1(x, branch))
        sc = self.shortcut(a) if hasattr(self, "shortcut") else x
        return self.conv2(F.relu(self.bn2(self.conv1(a), branch))) + sc


class Normalize(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN))
        self.register_buffer("std", torch.tensor(STD))

    def forward(self, x):
        return (x - self.mean.view(1, 3, 1, 1)) / self.std.view(1, 3, 1, 1)


class PreActResNet18(nn.Module):
    def __init__(self, norm, width=WIDTH, classes=10):
        super().__init__()
        ch = [max(1, round(c * width)) for c in (64, 128, 256, 512)]
        self.normal = Normalize()
        self.conv1 = nn.Conv2d(3, ch[0], 3, 1, 1, bias=False)
        cin = ch[0]
        for s, (c, stride) in enumerate(zip(ch, (1, 2, 2, 2))):
            setattr(self, f"layer{s + 1}", nn.Sequential(Block(norm, cin, c, stride), Block(norm, c, c, 1)))
            cin = c
        self.linear = nn.Linear(cin, classes)

    def forward(self, x, branch):
        h = self.conv1(self.normal(x))
        for s in range(1, 5):
            for blk in getattr(self, f"layer{s}"):
                h = blk(h, branch)
        return self.linear(F.avg_pool2d(h, 4).flatten(1))


def build(name, seed):
    torch.manual_seed(seed)
    m = PreActResNet18(NORMS[name])
    with torch.no_grad():  # affine parameters away from 1 and 0, so they matter
        for n, p in m.named_parameters():
            if ".bn" in n or "embed" in n:
                p.add_(0.2 * torch.randn_like(p))
    m.train()
    with torch.no_grad():  # running statistics that differ per branch
        for branch in (0, 1):
            for _ in range(3):
                m(torch.rand(8, 3, 32, 32) * (0.6 + 0.4 * branch), branch)
    m.eval()
    return m


def save_safetensors(path, tensors, metadata=None):
    """The safetensors layout, written directly: 8-byte header length, JSON
    header (dtype, shape, data offsets), then the raw little-endian bytes."""
    names = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32"}
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        t = t.contiguous()
        raw = bytes(t.flatten().view(torch.uint8).tolist())
        header[k] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32}
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=torch.uint8) if e > b else torch.empty(0, dtype=torch.uint8)
        out[k] = t.view(dtypes[v["dtype"]]).reshape(v["shape"]).clone()
    return out


def logits(m, x):
    with torch.no_grad():
        return {b: m(x, i).tolist() for i, b in enumerate(("clean", "adv"))}


def make(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    x = torch.rand(4, 3, 32, 32)
    with open(os.path.join(out, "inputs.bin"), "wb") as f:
        f.write(bytes(x.flatten().view(torch.uint8).tolist()))
    all_logits = {}
    for seed, name in enumerate(FIXTURE_NORMS, start=1):
        m = build(name, seed)
        sd = m.state_dict()
        if name == "bn":
            torch.save({"epoch": 7, "state_dict": sd}, os.path.join(out, "bn.pt"))
            save_safetensors(os.path.join(out, "bn.safetensors"), {k: (v.double() if v.is_floating_point() else v) for k, v in sd.items()})
        elif name == "auxbn":
            torch.save({"module." + k: v for k, v in sd.items()}, os.path.join(out, "auxbn.pt"))
            save_safetensors(os.path.join(out, "auxbn.safetensors"), dict(sd))
        else:
            torch.save(sd, os.path.join(out, name + ".pt"))
            save_safetensors(os.path.join(out, name + ".safetensors"), dict(sd), {"format": "pt"})
        all_logits[name] = logits(m, x)
    with open(os.path.join(out, "logits.json"), "w") as f:
        json.dump(all_logits, f, indent=1)
    print("wrote fixtures to", out)


def check_export(path, norm, out):
    """Load an advbench export with strict=True and compare its logits with
    the fixture's (the export of an import of <norm>.pt)."""
    m = PreActResNet18(NORMS[norm])
    missing = m.load_state_dict(load_safetensors(path), strict=True)
    m.eval()
    with open(os.path.join(out, "inputs.bin"), "rb") as f:
        x = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(4, 3, 32, 32)
    with open(os.path.join(out, "logits.json")) as f:
        fixture = json.load(f)
    got = logits(m, x)
    if norm not in fixture:  # no model fixture: names and shapes are what is checked
        print(f"{path}: loaded with strict=True ({missing}); no fixture logits for {norm}: eval logits {got['clean'][0][:3]}...")
        return all(math.isfinite(v) for br in got.values() for row in br for v in row)
    want = fixture[norm]
    worst = max(abs(a - b) for br in ("clean", "adv") for ra, rb in zip(got[br], want[br]) for a, b in zip(ra, rb))
    print(f"{path}: loaded with strict=True ({missing}); max |logit difference| vs the fixture: {worst:.3g}")
    return worst < 1e-4


def norm_case(name, module, shape, seed, groups=None):
    """One layer fixture: module (float64) on an input of the given shape
    with per-channel offsets and scales, its affine parameters moved off 1
    and 0, in training and evaluation mode."""
    torch.manual_seed(seed)
    n, c, h, w = shape
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.3 * torch.randn_like(p))
    ch = torch.arange(c, dtype=torch.float64).view(1, c, 1, 1)
    x = (0.7 * ch - 0.5 + (1 + 0.5 * ch) * torch.randn(shape, dtype=torch.float64)).requires_grad_(True)
    r = torch.randn(shape, dtype=torch.float64)
    module.train()
    y = module(x)
    (r * y).sum().backward()
    module.eval()
    with torch.no_grad():
        y_eval = module(x)
    case = {"name": name, "norm": name.split("-")[0], "shape": list(shape), "state_dict_keys": list(module.state_dict().keys()),
            "x": x.detach().flatten().tolist(), "r": r.flatten().tolist(),
            "y_train": y.detach().flatten().tolist(), "y_eval": y_eval.flatten().tolist(), "dx": x.grad.flatten().tolist()}
    if groups is not None:
        case["groups"] = groups
    for k, p in module.named_parameters():
        case[k] = p.detach().flatten().tolist()
        case["d" + k] = p.grad.flatten().tolist()
    return case


def make_norms(out):
    os.makedirs(out, exist_ok=True)
    shape = (3, 6, 3, 2)
    cases = [
        norm_case("none", nn.Identity(), shape, 1),
        norm_case("gn-g3", nn.GroupNorm(3, 6), shape, 2, groups=3),
        norm_case("gn-default", nn.GroupNorm(gn_groups(64), 64), (2, 64, 2, 2), 3, groups=0),
        norm_case("ln", nn.GroupNorm(1, 6), shape, 4),
        norm_case("in", nn.InstanceNorm2d(6, affine=True, track_running_stats=False), shape, 5),
    ]
    # ln's statistics are LayerNorm's over (C, H, W): the same output as
    # F.layer_norm without its elementwise affine, then the per-channel one.
    ln = cases[3]
    x = torch.tensor(ln["x"], dtype=torch.float64).view(shape)
    want = F.layer_norm(x, shape[1:], eps=1e-5) * torch.tensor(ln["weight"]).view(1, -1, 1, 1) + torch.tensor(ln["bias"]).view(1, -1, 1, 1)
    assert torch.allclose(want.flatten(), torch.tensor(ln["y_train"], dtype=torch.float64), atol=1e-12)
    doc = {"torch": torch.__version__, "eps": 1e-5, "loss": "sum(r * y) in training mode", "cases": cases}
    path = os.path.join(out, "torch_norms.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print("wrote", path)


def make_sgd(out):
    os.makedirs(out, exist_ok=True)
    w = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    idle = torch.tensor([7.0], dtype=torch.float64, requires_grad=True)
    grads = [[0.1, 0.2, -0.3], [-0.5, 0.0, 0.25]]
    lrs = [0.1, 0.05]
    opt = torch.optim.SGD([w, idle], lr=lrs[0], momentum=0.9, weight_decay=0.01)
    steps = []
    for g, lr in zip(grads, lrs):
        for group in opt.param_groups:
            group["lr"] = lr
        w.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        steps.append({"lr": lr, "grad": g, "w": w.detach().tolist(), "momentum": opt.state[w]["momentum_buffer"].tolist(), "idle": idle.detach().tolist()})
    doc = {"torch": torch.__version__, "momentum": 0.9, "weight_decay": 0.01, "w0": [1.0, -2.0, 0.5], "idle0": [7.0], "steps": steps}
    with open(os.path.join(out, "sgd.json"), "w") as f:
        json.dump(doc, f, indent=1)
    print("wrote", os.path.join(out, "sgd.json"))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="interop/testdata")
    p.add_argument("--check-export")
    p.add_argument("--norm", default="saauxbn", choices=list(NORMS))
    p.add_argument("--sgd-out")
    p.add_argument("--norms-out")
    a = p.parse_args()
    if a.norms_out:
        make_norms(a.norms_out)
        raise SystemExit(0)
    if a.sgd_out:
        make_sgd(a.sgd_out)
        raise SystemExit(0)
    if a.check_export:
        raise SystemExit(0 if check_export(a.check_export, a.norm, a.out) else 1)
    make(a.out)
