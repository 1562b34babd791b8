#!/usr/bin/env python3
"""PyTorch CPU reference for `advbench bench`: the same PreAct ResNet-18
(RECIPE.md), the same workloads, batch and timing rule (one warm-up run, then
the median of --runs), with 2 threads and peak RSS. One workload per process
so the peak RSS is the workload's own.

    /usr/bin/python3 scripts/torch_bench.py --workload pgd-step --width 1 --batch 128 --runs 3
    /usr/bin/python3 scripts/torch_bench.py --workload advprop-iter --width 0.25 --train-steps 10
    /usr/bin/python3 scripts/torch_bench.py --workload eval-loop --width 0.25 --n 1000 --runs 1
    /usr/bin/python3 scripts/torch_bench.py --workload pgd-step --width 1 --attack-precision bf16

--attack-precision bf16 runs the attack steps (their forward pass and input
gradient) under torch.autocast("cpu", torch.bfloat16), as advbench's flag
of the same name does; clean and final predictions and training passes stay
float32.

Needs Debian's python3-torch (apt-get install python3-torch); prints one JSON
object with the fields advbench bench --format json uses.
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False))

    def forward(self, x):
        a = F.relu(self.bn1(x))
        sc = self.shortcut(a) if self.shortcut is not None else x
        h = self.conv2(F.relu(self.bn2(self.conv1(a))))
        return h + sc


class PreActResNet18(nn.Module):
    def __init__(self, width=1.0, classes=10):
        super().__init__()
        ch = [max(1, round(c * width)) for c in (64, 128, 256, 512)]
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.conv1 = nn.Conv2d(3, ch[0], 3, 1, 1, bias=False)
        blocks, cin = [], ch[0]
        for s, (c, stride) in enumerate(zip(ch, (1, 2, 2, 2))):
            for b in range(2):
                blocks.append(Block(cin, c, stride if b == 0 else 1))
                cin = c
        self.blocks = nn.Sequential(*blocks)
        self.linear = nn.Linear(cin, classes)

    def forward(self, x):
        h = self.blocks(self.conv1((x - self.mean) / self.std))
        return self.linear(F.adaptive_avg_pool2d(h, 1).flatten(1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workload", default="pgd-step", choices=["forward", "pgd-step", "train-step", "advprop-iter", "pgd20-eval", "eval-loop"])
    p.add_argument("--n", type=int, default=1000, help="eval-loop: images evaluated (in batches of --batch)")
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--train-steps", type=int, default=10, help="advprop-iter: PGD steps of the training attack")
    p.add_argument("--attack-mode", default="train", choices=["train", "eval"], help="advprop-iter: mode of the attack")
    p.add_argument("--attack-precision", default="fp32", choices=["fp32", "bf16"], help="attack steps under bf16 autocast")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    m = PreActResNet18(a.width)
    x = torch.rand(a.batch, 3, 32, 32)
    y = torch.randint(0, 10, (a.batch,))
    params = list(m.parameters())
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=5e-4)
    eps, step = 8 / 255, 2 / 255

    def attack_loss(xa):
        # The loss of one attack step, in the attack precision.
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.attack_precision == "bf16"):
            return F.cross_entropy(m(xa).float(), y)

    def pgd(xa, steps):
        for _ in range(steps):
            xa.requires_grad_(True)
            (g,) = torch.autograd.grad(attack_loss(xa), [xa])
            xa = xa.detach() + step * g.sign()
            xa = torch.min(torch.max(xa, x - eps), x + eps).clamp(0, 1)
        return xa

    def pgd20_eval():
        # One evaluation batch as advbench eval runs it with --attacks pgd-20:
        # clean predictions, PGD-20 from a random start, predictions at x_adv.
        m.eval()
        with torch.no_grad():
            m(x).argmax(1)
        xa = pgd(x + (2 * torch.rand(x.shape) - 1) * eps, 20)
        with torch.no_grad():
            m(xa).argmax(1)

    def eval_loop():
        # A whole evaluation written the way PyTorch users write it: a loop
        # over the test batches attacking every image with PGD-10 and PGD-20
        # (random start), then counting the correct predictions.
        m.eval()
        xs = torch.rand(a.n, 3, 32, 32)
        ys = torch.randint(0, 10, (a.n,))
        nonlocal x, y
        for lo in range(0, a.n, a.batch):
            x, y = xs[lo:lo + a.batch], ys[lo:lo + a.batch]
            with torch.no_grad():
                (m(x).argmax(1) == y).sum()
            for steps in (10, 20):
                xa = pgd(x + (2 * torch.rand(x.shape) - 1) * eps, steps)
                with torch.no_grad():
                    (m(xa).argmax(1) == y).sum()

    def advprop_iter():
        # The reference Adv/ training iteration (functions.py, attack_algo.py):
        # PGD from an unclamped random start in the attack mode, then the clean
        # and adversarial passes in train mode, the mean loss, SGD.
        m.train(a.attack_mode == "train")
        xa = pgd(x + (2 * torch.rand(x.shape) - 1) * eps, a.train_steps)
        m.train()
        loss = (F.cross_entropy(m(x), y) + F.cross_entropy(m(xa), y)) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()

    def work():
        if a.workload == "forward":
            m.eval()
            with torch.no_grad():
                m(x)
        elif a.workload == "pgd-step":
            m.eval()
            xa = x.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(attack_loss(xa), [xa])
        elif a.workload == "advprop-iter":
            advprop_iter()
        elif a.workload == "pgd20-eval":
            pgd20_eval()
        elif a.workload == "eval-loop":
            eval_loop()
        else:
            m.train()
            loss = F.cross_entropy(m(x), y)
            torch.autograd.grad(loss, params)

    if a.workload == "eval-loop":
        pgd20_eval()  # warm-up on one batch: the loop itself is long
    else:
        work()
    rates = []
    for _ in range(a.runs):
        t = time.perf_counter()
        work()
        rates.append((a.n if a.workload == "eval-loop" else a.batch) / (time.perf_counter() - t))
    print(json.dumps({
        "engine": "pytorch " + torch.__version__, "threads": a.threads,
        "workload": a.workload, "width": a.width, "batch": a.batch, "attack_precision": a.attack_precision,
        "images_per_second_runs": rates, "images_per_second": statistics.median(rates),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
