#!/usr/bin/env python3
"""Independent values for internal/stats's McNemarCombined and Holm tests.

Python's standard library only (math.comb for the exact binomial,
statistics.NormalDist for the normal quantile and tail), so nothing is
shared with the Go code (gonum's distuv). Run: python3 scripts/mcnemar_check.py
and compare with the constants in internal/stats/stats_test.go.
"""
from math import comb, sqrt
from statistics import NormalDist


def mcnemar_exact(b, c):
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    return min(1.0, 2 * sum(comb(n, i) for i in range(k + 1)) / 2 ** n)


def combined(bs, cs):
    if len(bs) == 1:
        return mcnemar_exact(bs[0], cs[0])
    nd = NormalDist()
    s = 0.0
    for b, c in zip(bs, cs):
        z = nd.inv_cdf(1 - mcnemar_exact(b, c) / 2)
        s += z if b >= c else -z
    return min(1.0, 2 * (1 - nd.cdf(abs(s) / sqrt(len(bs)))))


def holm(ps):
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    out, run, m = [0.0] * len(ps), 0.0, len(ps)
    for rank, i in enumerate(order):
        run = max(run, min(1.0, (m - rank) * ps[i]))
        out[i] = run
    return out


if __name__ == "__main__":
    for bs, cs in [([1, 0], [5, 4]), ([3, 9, 2], [9, 3, 8]), ([10, 12, 9], [20, 25, 18])]:
        print(f"combined b={bs} c={cs}: {combined(bs, cs)!r}")
        print(f"  pooled (the old test) b={sum(bs)} c={sum(cs)}: {mcnemar_exact(sum(bs), sum(cs))!r}")
    print(f"holm [0.01, 0.04, 0.03, 0.5]: {holm([0.01, 0.04, 0.03, 0.5])!r}")
