#!/usr/bin/env python3
"""Fixtures for data/cifar's tests of the CIFAR-10 formats
(data/cifar/testdata/formats): the same 12 records (2 per training batch,
2 test) in every form advbench reads, plus damaged pickles.

  bin/       data_batch_1.bin .. data_batch_5.bin, test_batch.bin: the binary
             release's layout (a label byte, then 3072 image bytes, per record)
  py/        data_batch_1 .. data_batch_5, test_batch: pickles written opcode by
             opcode the way the official cifar-10-python.tar.gz's were (Python 2
             cPickle, protocol 2: str keys, the array's bytes a str); each is
             checked here to load in Python 3 with numpy, as torchvision loads it
  cifar-10-binary.tar.gz, cifar-10-python.tar.gz
             bin/ and py/ under cifar-10-batches-bin/ and cifar-10-batches-py/,
             beside batches.meta(.txt) and readme.html, members in a shuffled
             order as in the official tarballs
  test_p2.pickle, test_p4.pickle, test_p5.pickle
             the test batch re-pickled by Python 3 with protocols 2, 4 and 5
             (bytes keys, as pickle.load(f, encoding="bytes") returns them;
             protocol 5 with str keys, as encoding="latin1" returns them)
  bad_label.pickle       labels [3, 10]
  bad_truncated.pickle   an array of shape (2, 3072) holding 3172 bytes
  bad_dtype.pickle       an int16 array
  bad_count.pickle       one label for two images
  bad_global.pickle      b"data" is an object whose reduction is os.system
  expect.json            the records' labels and the sha256 of their binary
                         layout, per split, computed here

Only the single pickles and expect.json are committed: the repository keeps
no file in a release's batch form, so data/cifar/cifartest writes bin/, py/
and the tarballs at test time in Go (this script's py2 pickler is the model
of its pickler; pass --release-forms to write them here too, to compare).
Run with Debian's python3-numpy (CI needs none of this):

    /usr/bin/python3 scripts/make_cifar_format_fixtures.py --out data/cifar/testdata/formats
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import pickle
import struct
import tarfile

import numpy as np

TRAIN = ["data_batch_%d" % i for i in range(1, 6)]
TEST = "test_batch"
PER_TRAIN, PER_TEST = 2, 2


def records():
    rng = np.random.RandomState(20240501)
    n = PER_TRAIN * len(TRAIN) + PER_TEST
    images = rng.randint(0, 256, size=(n, 3072)).astype(np.uint8)
    labels = [int(x) for x in rng.randint(0, 10, size=n)]
    labels[0], labels[1] = 0, 9  # both ends of the range
    batches = {}
    for i, name in enumerate(TRAIN):
        s = slice(i * PER_TRAIN, (i + 1) * PER_TRAIN)
        batches[name] = (images[s], labels[s])
    s = slice(PER_TRAIN * len(TRAIN), n)
    batches[TEST] = (images[s], labels[s])
    return batches


def binary(images, labels):
    out = bytearray()
    for img, lab in zip(images, labels):
        out.append(lab)
        out += img.tobytes()
    return bytes(out)


class Py2Pickler:
    """Writes protocol-2 opcodes as Python 2's cPickle did for a dict of str,
    list and numpy array (memoizing each object with BINPUT)."""

    def __init__(self):
        self.out = bytearray(b"\x80\x02")
        self.memo = 0

    def put(self):
        self.out += b"q" + bytes([self.memo]) if self.memo < 256 else b"r" + struct.pack("<I", self.memo)
        self.memo += 1

    def str_(self, s):
        if len(s) < 256:
            self.out += b"U" + bytes([len(s)]) + s
        else:
            self.out += b"T" + struct.pack("<i", len(s)) + s
        self.put()

    def int_(self, v):
        if 0 <= v < 256:
            self.out += b"K" + bytes([v])
        elif 0 <= v < 65536:
            self.out += b"M" + struct.pack("<H", v)
        else:
            self.out += b"J" + struct.pack("<i", v)

    def array(self, shape, raw):
        o = self.out
        o += b"cnumpy.core.multiarray\n_reconstruct\n"
        self.put()
        o += b"cnumpy\nndarray\n"
        self.put()
        o += b"K\x00\x85"  # (0,)
        self.str_(b"b")
        o += b"\x87R"  # TUPLE3, REDUCE
        self.put()
        o += b"("
        self.int_(1)
        for d in shape:
            self.int_(d)
        o += b"\x86"  # the shape, a 2-tuple
        o += b"cnumpy\ndtype\n"
        self.put()
        self.str_(b"u1")
        o += b"K\x00K\x01\x87R"
        self.put()
        o += b"(K\x03"
        self.str_(b"|")
        o += b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"  # dtype state, BUILD
        o += b"\x89"  # not Fortran
        self.str_(raw)
        o += b"tb"  # array state, BUILD

    def batch(self, batch_label, labels, shape, raw, filenames):
        o = self.out
        o += b"}"
        self.put()
        o += b"("
        self.str_(b"batch_label")
        self.str_(batch_label)
        self.str_(b"labels")
        o += b"]"
        self.put()
        o += b"("
        for v in labels:
            self.int_(v)
        o += b"e"
        self.str_(b"data")
        self.array(shape, raw)
        self.str_(b"filenames")
        o += b"]"
        self.put()
        o += b"("
        for f in filenames:
            self.str_(f)
        o += b"eu."
        return bytes(o)


def py2_batch(name, images, labels, shape=None, raw=None):
    idx = TRAIN.index(name) + 1 if name in TRAIN else 1
    label = b"training batch %d of 5" % idx if name in TRAIN else b"testing batch 1 of 1"
    files = [b"image_%s_%d.png" % (name.encode(), i) for i in range(len(labels))]
    return Py2Pickler().batch(label, labels, shape or images.shape, raw if raw is not None else images.tobytes(), files)


def check_py2(raw, images, labels):
    for enc in ("bytes", "latin1"):
        d = pickle.loads(raw, encoding=enc)
        key = (lambda k: k.encode()) if enc == "bytes" else (lambda k: k)
        assert d[key("labels")] == labels, enc
        assert d[key("data")].dtype == np.uint8 and (d[key("data")] == images).all(), enc


def py3_dict(name, images, labels, str_keys=False):
    k = (lambda s: s) if str_keys else (lambda s: s.encode())
    return {k("batch_label"): b"testing batch 1 of 1", k("labels"): list(labels), k("data"): images,
            k("filenames"): [b"image_%s_%d.png" % (name.encode(), i) for i in range(len(labels))]}


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def add(tf, name, data):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mtime, ti.mode = len(data), 1234567890, 0o644
    ti.uname = ti.gname = "advbench"
    tf.addfile(ti, io.BytesIO(data))


def tarball(path, top, files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        d = tarfile.TarInfo(top)
        d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 1234567890
        tf.addfile(d)
        for name, data in files:
            add(tf, top + "/" + name, data)
    with open(path, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
            gz.write(buf.getvalue())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--release-forms", action="store_true", help="also write bin/, py/ and both tarballs")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.release_forms:
        os.makedirs(os.path.join(a.out, "bin"), exist_ok=True)
        os.makedirs(os.path.join(a.out, "py"), exist_ok=True)
    batches = records()

    binfiles, pyfiles = {}, {}
    for name, (images, labels) in batches.items():
        binfiles[name + ".bin"] = binary(images, labels)
        raw = py2_batch(name, images, labels)
        check_py2(raw, images, labels)
        pyfiles[name] = raw
    for name, data in (binfiles.items() if a.release_forms else []):
        open(os.path.join(a.out, "bin", name), "wb").write(data)
    for name, data in (pyfiles.items() if a.release_forms else []):
        open(os.path.join(a.out, "py", name), "wb").write(data)

    # The official tarballs' member order is not the batches' order.
    order = ["data_batch_4", "readme", TEST, "data_batch_3", "meta", "data_batch_2", "data_batch_5", "data_batch_1"]
    meta_txt = "\n".join(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]).encode() + b"\n"
    meta_pkl = pickle.dumps({"num_cases_per_batch": PER_TRAIN, "label_names": meta_txt.decode().split(), "num_vis": 3072}, protocol=2)
    readme = b"<html>fixture</html>\n"
    bin_members, py_members = [], []
    for o in order:
        if o == "readme":
            bin_members.append(("readme.html", readme))
            py_members.append(("readme.html", readme))
        elif o == "meta":
            bin_members.append(("batches.meta.txt", meta_txt))
            py_members.append(("batches.meta", meta_pkl))
        else:
            bin_members.append((o + ".bin", binfiles[o + ".bin"]))
            py_members.append((o, pyfiles[o]))
    if a.release_forms:
        tarball(os.path.join(a.out, "cifar-10-binary.tar.gz"), "cifar-10-batches-bin", bin_members)
        tarball(os.path.join(a.out, "cifar-10-python.tar.gz"), "cifar-10-batches-py", py_members)

    images, labels = batches[TEST]
    singles = {
        "test_p2.pickle": pickle.dumps(py3_dict(TEST, images, labels), protocol=2),
        "test_p4.pickle": pickle.dumps(py3_dict(TEST, images, labels), protocol=4),
        "test_p5.pickle": pickle.dumps(py3_dict(TEST, images, labels, str_keys=True), protocol=5),
        "bad_label.pickle": pickle.dumps(py3_dict(TEST, images, [3, 10]), protocol=4),
        "bad_truncated.pickle": py2_batch(TEST, images, labels, shape=(2, 3072), raw=images.tobytes()[:3072 + 100]),
        "bad_dtype.pickle": pickle.dumps(py3_dict(TEST, images.astype(np.int16), labels), protocol=4),
        "bad_count.pickle": pickle.dumps(py3_dict(TEST, images, labels[:1]), protocol=4),
        "bad_global.pickle": pickle.dumps({b"data": Evil(), b"labels": labels}, protocol=4),
    }
    for name, data in singles.items():
        open(os.path.join(a.out, name), "wb").write(data)

    def split(names):
        imgs = np.concatenate([batches[n][0] for n in names])
        labs = sum((batches[n][1] for n in names), [])
        return {"labels": labs, "sha256": hashlib.sha256(binary(imgs, labs)).hexdigest()}

    expect = {"train": split(TRAIN), "test": split([TEST])}
    with open(os.path.join(a.out, "expect.json"), "w") as f:
        json.dump(expect, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
