#!/usr/bin/env python3
"""Writes the layer tars used by Tests/ImageStoreTests/Layers.

Usage: make-hostile.py --out DIR --sentinel PATH [CASE ...]

For each CASE (all when none is given) writes DIR/CASE.N.tar[.gz|.zst], one file per layer in
apply order, and DIR/CASE.layers listing those file names. Headers are crafted with tarfile so
that each test sees exactly the entry it names. PATH is a directory outside the root that the
hostile cases aim at; the tests check it is unchanged. Default DIR: Tests/Fixtures/out/hostile.
"""
import argparse
import gzip
import io
import os
import struct
import subprocess
import tarfile

MTIME = 1_700_000_000


def info(name, kind=tarfile.REGTYPE, mode=0o644, uid=0, gid=0, size=0, link="", mtime=MTIME, pax=None):
    t = tarfile.TarInfo(name)
    t.type = kind
    t.mode = mode
    t.uid = uid
    t.gid = gid
    t.size = size
    t.linkname = link
    t.mtime = mtime
    t.uname = ""
    t.gname = ""
    if pax:
        t.pax_headers = dict(pax)
    return t


def reg(name, data=b"", **kw):
    return (info(name, size=len(data), **kw), data)


def dir_(name, mode=0o755, **kw):
    return (info(name, tarfile.DIRTYPE, mode=mode, **kw), None)


def sym(name, target, **kw):
    return (info(name, tarfile.SYMTYPE, mode=0o777, link=target, **kw), None)


def hard(name, target, **kw):
    return (info(name, tarfile.LNKTYPE, link=target, **kw), None)


def node(name, kind, major=0, minor=0, mode=0o600, **kw):
    t = info(name, kind, mode=mode, **kw)
    t.devmajor = major
    t.devminor = minor
    return (t, None)


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8", errors="surrogateescape") as tf:
        for t, data in entries:
            tf.addfile(t, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


# security.capability v2: cap_net_bind_service permitted + effective.
CAPABILITY = struct.pack("<IIIII", 0x02000001, 1 << 10, 0, 0, 0)


def xattr(value):
    return value.decode("utf-8", "surrogateescape")


def sparse_small():
    """A GNU sparse 1.0 file of 1 MiB with 512 bytes of "y" at 512 KiB and the rest holes."""
    sparse_map = b"1\n524288\n512\n".ljust(512, b"\0")
    data = sparse_map + b"y" * 512
    pax = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "holes", "GNU.sparse.realsize": str(1 << 20)}
    return tar_bytes([(info("GNUSparseFile.0/holes", size=len(data), pax=pax), data)])


def sparse_huge():
    """A GNU sparse 1.0 file declaring 10 GiB with one 512-byte chunk at the end."""
    real = 10 << 30
    sparse_map = f"1\n{real - 512}\n512\n".encode().ljust(512, b"\0")
    data = sparse_map + b"x" * 512
    pax = {
        "GNU.sparse.major": "1",
        "GNU.sparse.minor": "0",
        "GNU.sparse.name": "big",
        "GNU.sparse.realsize": str(real),
    }
    return tar_bytes([(info("GNUSparseFile.0/big", size=len(data), pax=pax), data)])


def truncated():
    whole = tar_bytes([reg("ok", b"fine"), reg("cut", os.urandom(100_000))])
    return whole[: 512 * 3 + 40_000]


def gzip_bomb():
    """64 MiB of zeros in one file: about 64 KiB compressed."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tf:
            t = info("bomb", size=64 << 20)
            tf.addfile(t, io.BytesIO(bytes(64 << 20)))
    return buf.getvalue()


def zstd(data):
    return subprocess.run(["zstd", "-q", "-c"], input=data, check=True, stdout=subprocess.PIPE).stdout


def semantic_metadata():
    long_dir = "d" * 150
    return tar_bytes(
        [
            dir_("./", mode=0o755),
            reg("bin/setuid", b"#!/bin/true\n", mode=0o4755, uid=1000, gid=1000),
            dir_("shared/", mode=0o2775, uid=0, gid=50),
            dir_("tmp/", mode=0o1777),
            reg(
                "bin/ping",
                b"ping",
                mode=0o755,
                uid=1000,
                gid=1000,
                pax={"SCHILY.xattr.security.capability": xattr(CAPABILITY), "SCHILY.xattr.user.note": "hello"},
            ),
            node("dev/null", tarfile.CHRTYPE, 1, 3, mode=0o666),
            node("dev/sda", tarfile.BLKTYPE, 8, 0, mode=0o660, gid=6),
            node("run/fifo", tarfile.FIFOTYPE, mode=0o620),
            reg("times/file", b"t", pax={"mtime": "1600000000.123456789"}),
            dir_("times/", mode=0o750, pax={"mtime": "1500000000.5"}),
            sym("links/rel", "../bin/setuid", uid=7, gid=8),
            sym("links/abs", "/etc/does-not-exist"),
            sym("links/dotdot", "../../../../outside"),
            reg("names/caf\udce9", b"latin1"),
            reg("names/\u00e9t\u00e9", b"utf8"),
            reg(f"names/{long_dir}/{'f' * 200}", b"long"),
        ]
    )


def gnu_names():
    return tar_bytes([reg("gnu/caf\udce9", b"gnu-latin1"), reg("gnu/" + "n" * 180, b"gnu-long")], fmt=tarfile.GNU_FORMAT)


def cases(sentinel):
    s = sentinel.rstrip("/")
    base_tree = [dir_("d/"), reg("d/old", b"old"), dir_("d/sub/"), reg("d/sub/old2", b"old2"), reg("keep", b"k")]
    return {
        # --- semantics ---
        "sem-whiteout": [
            [dir_("a/"), reg("a/f1", b"1"), reg("a/f2", b"2"), dir_("b/"), reg("b/x", b"x"), reg("c", b"c")],
            [reg("a/.wh.f1"), reg(".wh.b"), reg(".wh.c")],
        ],
        "sem-opaque-first": [
            base_tree,
            [dir_("d/"), reg("d/.wh..wh..opq"), reg("d/new", b"n"), dir_("d/sub/"), reg("d/sub/new2", b"n2")],
        ],
        "sem-opaque-last": [
            base_tree,
            [dir_("d/"), reg("d/new", b"n"), dir_("d/sub/"), reg("d/sub/new2", b"n2"), reg("d/.wh..wh..opq")],
        ],
        "sem-whiteout-same-layer": [
            [dir_("d/"), reg("d/lower", b"l")],
            [reg("f", b"same"), reg(".wh.f"), dir_("d/"), reg("d/g", b"g"), reg(".wh.d")],
        ],
        "sem-whiteout-no-parent-entry": [
            [dir_("p/"), dir_("p/q/"), reg("p/q/file", b"f"), reg("p/q/keep", b"k")],
            [reg("p/q/.wh.file"), reg("zz/.wh.foo"), reg("opq/.wh..wh..opq")],
        ],
        "sem-hardlinks": [
            [reg("f1", b"A")],
            [hard("h1", "f1"), reg("f2", b"B"), hard("h2", "f2"), reg("f2", b"C"), hard("h3", "./f1")],
        ],
        "sem-replace": [
            [dir_("x/"), reg("x/child", b"c"), reg("y", b"y"), sym("s", "x")],
            [reg("x", b"now a file"), dir_("y/"), reg("y/c", b"c"), dir_("s/")],
            [dir_("y/", mode=0o700, uid=5, gid=6)],
        ],
        # --- a later layer hardlinks files of lower ones (copied up into its own disk) ---
        "copyup-link": [
            [dir_("opt/", mode=0o750, uid=3, gid=4, mtime=MTIME - 7),
             reg("opt/t", b"lower t", mode=0o640, uid=7, gid=8, mtime=MTIME - 5,
                 pax={"SCHILY.xattr.user.tag": "lower"}),
             reg("opt/other", b"o1"), dir_("g/", mode=0o711), reg("g/a", b"group"), hard("g/b", "g/a"),
             sym("lib", "opt"), reg("keep", b"k")],
            [reg("opt/other", b"o2"), reg("opt/more", b"more")],
            [dir_("data/"), hard("data/l1", "opt/t"), hard("data/l2", "lib/other"), hard("data/l3", "g/b"),
             hard("data/l4", "/opt/t"), reg("g/.wh.a"), reg("opt/own", b"own"), hard("data/l5", "lib/own")],
        ],
        "copyup-opaque-after": [
            [dir_("d/"), reg("d/t", b"t"), reg("d/u", b"u"), dir_("d/s/"), reg("d/s/v", b"v")],
            [hard("l", "d/t"), hard("m", "d/s/v"), reg("d/.wh..wh..opq"), reg("d/mine", b"mine")],
        ],
        "overlay-write-below-whiteout": [
            [reg(".wh.w"), reg("w/inside", b"i"), reg("x/.wh.y"), dir_("x/y/")],
        ],
        "overlay-tar-xattrs": [
            [dir_("d/", pax={"SCHILY.xattr.trusted.overlay.redirect": "/etc",
                             "SCHILY.xattr.trusted.overlay.opaque": "y", "SCHILY.xattr.user.keep": "k"})],
        ],
        "sem-metadata": lambda: [[("raw", semantic_metadata())]],
        "sem-gnu-names": lambda: [[("raw", gnu_names())]],
        "sem-gzip": lambda: [[("gzip", tar_bytes([reg("z/gz", b"gzip data" * 1000)]))]],
        "sem-sparse": lambda: [[("raw", sparse_small())]],
        "sem-empty": lambda: [[("gzip", tar_bytes([]))]],
        "sem-zstd": lambda: [[("zstd", tar_bytes([reg("z/zst", b"zstd data" * 1000)]))]],
        # --- directory components through in-root symlinks (compared with umoci) ---
        "symlink-parent-usrmerge": [
            [dir_("usr/"), dir_("usr/lib/"), dir_("usr/bin/"), sym("lib", "usr/lib"), sym("bin", "/usr/bin")],
            [reg("lib/x", b"x"), reg("bin/y", b"y"), dir_("lib/sub/", mode=0o700), reg("lib/sub/z", b"z")],
        ],
        "symlink-parent-chain": [
            [dir_("c/"), dir_("c/d/"), sym("a", "b"), sym("b", "./c//d/"), sym("c/up", "../../../..")],
            [reg("a/f", b"f"), reg("c/up/c/d/g", b"g"), reg("c/up/top", b"t")],
        ],
        "symlink-parent-missing-target": [[sym("lib64", "usr/lib64")], [reg("lib64/ld.so", b"ld")]],
        "symlink-parent-whiteout": [
            [dir_("usr/"), dir_("usr/lib/"), reg("usr/lib/old", b"o"), reg("usr/lib/keep", b"k"), sym("lib", "usr/lib")],
            [reg("lib/.wh.old")],
        ],
        "symlink-parent-hardlink": [
            [dir_("usr/"), dir_("usr/lib/"), reg("usr/lib/a", b"a"), sym("lib", "/usr/lib")],
            [hard("lib/b", "lib/a"), hard("c", "lib/a")],
        ],
        # --- hostile corpus ---
        "dotdot-relative": [[reg("../x", b"evil")]],
        "dotdot-nested": [[reg("a/../../x", b"evil")]],
        "dotdot-inside": [[reg("a/../b", b"evil")]],
        "absolute-contained": [[reg("/etc/x", b"inside")]],
        "absolute-escape": [[reg("/../outside/x", b"evil")]],
        "symlink-to-sentinel-write": [[sym("link", s), reg("link/file", b"evil")]],
        "symlink-to-root-write": [[sym("link", "/"), reg(f"link{s}/planted", b"evil")]],
        "symlink-to-dotdot-write": [[sym("link", ".."), reg("link/planted", b"evil")]],
        "symlink-lower-layer-write": [[sym("link", s)], [reg("link/file", b"evil")]],
        "symlink-loop": [[sym("a", "b"), sym("b", "a"), reg("a/x", b"evil")]],
        "hardlink-etc-passwd": [[hard("x", "/etc/passwd")]],
        "hardlink-dotdot": [[hard("x", "../outside/file")]],
        "hardlink-through-symlink": [[sym("link", s), hard("x", "link/file")]],
        "hardlink-to-directory": [[dir_("d/"), hard("x", "d")]],
        "whiteout-dotdot": [[reg(".wh...")]],
        "whiteout-dot": [[dir_("a/"), reg("a/.wh..")]],
        "whiteout-through-symlink": [[sym("link", s)], [reg("link/.wh.file")]],
        "opaque-on-symlink": [[sym("link", s)], [reg("link/.wh..wh..opq")]],
        "device-through-symlink": [[sym("etc", s)], [node("etc/null", tarfile.CHRTYPE, 1, 3)]],
        "sparse-10gib": lambda: [[("raw", sparse_huge())]],
        "gzip-bomb": lambda: [[("raw-gz", gzip_bomb())]],
        "too-many-entries": [[reg(f"f{i}") for i in range(1200)]],
        "truncated-entry": lambda: [[("raw", truncated())]],
        "garbage": lambda: [[("raw", bytes((i * 37 + 11) % 256 for i in range(4096)))]],
        "truncated-gzip": lambda: [[("raw-gz", gzip.compress(tar_bytes([reg("f", os.urandom(50_000))]), mtime=0)[:3000])]],
        "long-path": [[reg("p/" + "/".join(["x" * 200] * 30), b"deep")]],
        "uid-out-of-range": [[reg("f", b"x", uid=4294967295)]],
        "root-replaced-by-symlink": [[sym("./", s)]],
        "symlink-replaced-by-dir": [[sym("d", s)], [dir_("d/"), reg("d/file", b"inside")]],
        "absolute-symlink-parent": [[sym("lib", s + "/sub")], [reg("lib/evil.so", b"evil")]],
        "fifo-over-dir": [[dir_("d/"), reg("d/a", b"a"), dir_("d/sub/"), reg("d/sub/b", b"b")], [node("d", tarfile.FIFOTYPE)]],
        "hardlink-to-symlink": [[sym("link", s + "/file"), hard("x", "link")]],
        "opaque-with-symlink-child": [[dir_("d/"), sym("d/link", s)], [reg("d/.wh..wh..opq")]],
        "whiteout-symlink-to-sentinel": [[sym("s", s)], [reg(".wh.s")]],
        "dir-over-symlink": [[sym("s", s)], [dir_("s/", mode=0o777, uid=1234)]],
        "long-symlink-target": [[sym("l", "../" * 2000)]],
        "hardlink-to-whiteout": [[reg("gone", b"g")], [reg(".wh.gone"), hard("x", "gone")]],
        "whiteout-as-directory": [[reg("a/.wh.b/c", b"hidden")]],
        "file-over-symlink": [[sym("s", s + "/file")], [reg("s", b"evil")]],
    }


def write_case(out, name, layers):
    if callable(layers):
        layers = layers()
    names = []
    for index, layer in enumerate(layers):
        if len(layer) == 1 and isinstance(layer[0], tuple) and isinstance(layer[0][0], str):
            kind, data = layer[0]
            suffix = {"raw": ".tar", "raw-gz": ".tar.gz", "gzip": ".tar.gz", "zstd": ".tar.zst"}[kind]
            if kind == "gzip":
                data = gzip.compress(data, mtime=0)
            elif kind == "zstd":
                data = zstd(data)
        else:
            data, suffix = tar_bytes(layer), ".tar"
        file_name = f"{name}.{index}{suffix}"
        with open(os.path.join(out, file_name), "wb") as f:
            f.write(data)
        names.append(file_name)
    with open(os.path.join(out, f"{name}.layers"), "w") as f:
        f.write("\n".join(names) + "\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(here, "..", "out", "hostile"))
    parser.add_argument("--sentinel", default="/tmp/image-worker-sentinel")
    parser.add_argument("case", nargs="*")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    table = cases(args.sentinel)
    for name in args.case or table:
        write_case(args.out, name, table[name])


if __name__ == "__main__":
    main()
