#!/usr/bin/env python3
"""The machine's measured float32 GEMM peak, the yardstick docs/speed.md
quotes GFLOP/s against: numpy's float32 matmul, which Debian's numpy sends
to the system BLAS (OpenBLAS once libopenblas0-pthread is installed; the
script prints which library numpy loaded), on square and
convolution-shaped products, the median of --runs timed calls each.

    apt-get install python3-numpy libopenblas0-pthread
    OPENBLAS_NUM_THREADS=2 python3 scripts/sgemm_peak.py --runs 7

The shapes beside the square ones are ResNet-18's 3x3 convolutions at
batch 128 as (m = output channels, n = images x output positions, k =
input channels x 9) at width 1, and the same at width 0.25. Prints one
JSON object.
"""
import argparse
import json
import os
import statistics
import time

import numpy as np


def blas_library():
    """The BLAS shared object the process has mapped, if any."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
        return sorted(os.path.basename(p) + " (" + os.path.dirname(p) + ")" for p in libs)
    except OSError:
        return []


def gflops(m, n, k, runs):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)
    np.matmul(a, b, out=c)  # warm-up: threads started, pages touched
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - t)
    return 2.0 * m * n * k / statistics.median(times) / 1e9


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=7)
    args = p.parse_args()
    shapes = {
        "square 1024": (1024, 1024, 1024),
        "square 2048": (2048, 2048, 2048),
        "w1 stage1 64x131072x576": (64, 128 * 32 * 32, 64 * 9),
        "w1 stage4 512x2048x4608": (512, 128 * 4 * 4, 512 * 9),
        "w0.25 stage1 16x131072x144": (16, 128 * 32 * 32, 16 * 9),
        "w0.25 stage4 128x2048x1152": (128, 128 * 4 * 4, 128 * 9),
    }
    out = {
        "numpy": np.__version__,
        "blas": blas_library(),
        "threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
        "runs": args.runs,
        "gflops": {name: round(gflops(*s, args.runs), 1) for name, s in shapes.items()},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
