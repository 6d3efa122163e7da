#!/usr/bin/env python3
"""Writes one-layer OCI layouts for the model-export tests; prints the manifest digest.

Usage: special-image.py OUTDIR CASE
  long-paths      50,000 files at ~4,000-byte paths (19 nested 200-byte directories, 230-byte
                  names): a small gzip layer whose path set was 218 MB of applier memory
  sparse-60g      a 5 KiB layer declaring a 60 GB GNU sparse file with one 512-byte chunk
  lost-found-file a regular file at /lost+found
  lost-found-dir  /lost+found as a directory holding a file, mode 0700
  old-times       files with a pre-1970 mtime and nanosecond mtimes (PAX `mtime` records)
"""
import gzip, io, os, sys, tarfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile"))
from importlib import import_module

make_layout = import_module("make-layout")
MTIME = 1700000000


def info(name, kind=tarfile.REGTYPE, size=0, mode=0o644, pax=None):
    t = tarfile.TarInfo(name)
    t.type, t.size, t.mode, t.mtime = kind, size, mode, MTIME
    if pax:
        t.pax_headers = pax
    return t


def write(out, case):
    os.makedirs(out, exist_ok=True)
    layer = os.path.join(out, "layer.tar.gz")
    with open(layer, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        if case == "long-paths":
            path = ""
            for _ in range(19):
                path += "d" * 200 + "/"
                tar.addfile(info(path.rstrip("/"), tarfile.DIRTYPE, mode=0o755))
            for i in range(50_000):
                tar.addfile(info(path + f"{i:06d}" + "n" * 224))
        elif case == "sparse-60g":
            real = 60 * 10**9
            sparse_map = f"1\n{real - 512}\n512\n".encode().ljust(512, b"\0")
            data = sparse_map + b"x" * 512
            pax = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "huge",
                   "GNU.sparse.realsize": str(real)}
            tar.addfile(info("GNUSparseFile.0/huge", size=len(data), pax=pax), io.BytesIO(data))
        elif case == "lost-found-file":
            tar.addfile(info("lost+found", size=5), io.BytesIO(b"mine\n"))
        elif case == "lost-found-dir":
            tar.addfile(info("lost+found", tarfile.DIRTYPE, mode=0o700))
            tar.addfile(info("lost+found/kept", size=5), io.BytesIO(b"kept\n"))
        elif case == "old-times":
            for name, mtime in [("old", "-31536000.123456789"), ("nano", "1700000000.987654321"),
                                ("epoch-minus-one", "-1")]:
                tar.addfile(info(name, size=1, pax={"mtime": mtime}), io.BytesIO(b"t"))
        else:
            raise SystemExit(f"unknown case {case}")
    digest = make_layout.write_layout(os.path.join(out, "layout"), [layer])
    print(digest)


if __name__ == "__main__":
    write(sys.argv[1], sys.argv[2])
