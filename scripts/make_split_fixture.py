#!/usr/bin/env python3
"""Write internal/nprand/testdata/numpy_split.json: what numpy's legacy
random API computes for the reference code's train/validation split
(Adv/train.py: np.random.seed(10); np.random.shuffle(indices) on the list
range(50000); the first 5,000 shuffled indices are the validation set).

advbench reimplements MT19937 and RandomState.shuffle in Go
(internal/nprand); its tests compare with these numbers. Needs numpy
(Debian: apt-get install python3-numpy). Run from the repository root:

    /usr/bin/python3 scripts/make_split_fixture.py
"""
import hashlib
import json
import sys

import numpy as np

OUT = "internal/nprand/testdata/numpy_split.json"


def shuffled(seed, n):
    np.random.seed(seed)
    idx = list(range(n))
    np.random.shuffle(idx)
    return idx


def digest(idx):
    # sha256 of the indices as decimal numbers joined by commas.
    return hashlib.sha256(",".join(str(i) for i in idx).encode()).hexdigest()


def main():
    cases = []
    for seed, n in [(10, 50000), (10, 10000), (1, 2048), (0, 10), (4294967295, 1000)]:
        idx = shuffled(seed, n)
        cases.append({"seed": seed, "n": n, "first": idx[:64], "last": idx[-8:], "sha256": digest(idx)})
    key = np.random.RandomState(10).get_state()[1]
    rs = np.random.RandomState(10)
    raw = [int(v) for v in rs.randint(0, 2**32, size=8, dtype=np.uint64)]
    out = {
        "numpy_version": np.__version__,
        "made_by": "scripts/make_split_fixture.py",
        "digest": "sha256 of the shuffled indices as decimal numbers joined by commas",
        "shuffles": cases,
        "seed10_key_first": [int(k) for k in key[:4]],
        "seed10_key_last": int(key[-1]),
        "seed10_randint_2_32": raw,
    }
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
