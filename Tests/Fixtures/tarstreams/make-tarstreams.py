#!/usr/bin/env python3
"""Writes odd and hostile layer blobs: malformed tar headers, empty layers, streams that are
not tars, and gzip/zstd streams with every shape a registry can serve (issue 10 items 23-25,
issue 12 item 4). Used by Tests/ImageStoreTests/Layers/TarStreamTests.swift and InflateTests.swift.

Usage: make-tarstreams.py --out DIR [CASE ...]            one blob per case: DIR/CASE.blob
       make-tarstreams.py --layout DIR [--wrong-diff-id] CASE
                                                           an OCI layout whose one layer is CASE
For each blob DIR/CASE.json says {"mediaType": ..., "tarSha256": ... (null when the stream
does not decompress)}. Headers the tarfile module will not write are built by hand (ustar()).
Deterministic: fixed mtimes, no randomness beyond a seeded PRNG.
"""
import argparse
import functools
import gzip
import hashlib
import io
import json
import os
import random
import subprocess
import tarfile
import zipfile
import zlib

MTIME = 1_700_000_000
TAR = "application/vnd.oci.image.layer.v1.tar"
GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"


# --- hand-built tar pieces ---------------------------------------------------------------

def ustar(name, size=0, typeflag=b"0", size_field=None):
    """One ustar header block; `size_field` replaces the 12-byte size (e.g. base-256 negative)."""
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = size_field if size_field is not None else b"%011o\0" % size
    h[136:148] = b"%011o\0" % MTIME
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def pad(data):
    return data + b"\0" * (-len(data) % 512)


def record(key, value):
    """A well-formed pax record: "<len> key=value\\n" with the length counting itself."""
    body = b" " + key + b"=" + value + b"\n"
    length = len(body)
    while len(str(length).encode() + body) != length:
        length = len(str(length).encode() + body)
    return str(length).encode() + body


def pax(records, name=b"PaxHeaders/f"):
    return ustar(name, len(records), b"x") + pad(records)


def regular(name, data=b""):
    return ustar(name, len(data)) + pad(data)


END = b"\0" * 1024


def tar_of(entries):
    """A pax tar of (name, bytes) regular files, written by tarfile."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape") as tf:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime, info.uname, info.gname = len(data), 0o644, MTIME, "", ""
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def payload(size, seed):
    """`size` bytes, half compressible text and half noise, the same for a seed."""
    text = b"".join(b"line %d of the layer payload\n" % i for i in range(size // 58 + 1))[: size // 2]
    return text + random.Random(seed).randbytes(size - len(text))


@functools.cache
def big_tar():
    """About 4 MiB: several input and output blocks of the reader, members cut mid-entry."""
    return tar_of([("a/text", payload(3 << 20, 1)), ("b/noise", payload(1 << 20, 2)), ("c/small", b"small\n")])


# --- compressors -------------------------------------------------------------------------

def gz(data, level=6):
    return gzip.compress(data, compresslevel=level, mtime=0)


def gz_members(data, size):
    """`data` as concatenated gzip members of `size` input bytes each (as pigz --independent or cat a.gz b.gz)."""
    return b"".join(gz(data[i:i + size]) for i in range(0, len(data), size)) or gz(b"")


def zst(data, *args):
    return subprocess.run(["zstd", "-q", "-c", *args], input=data, check=True, stdout=subprocess.PIPE).stdout


def zst_frames(data, size):
    return b"".join(zst(data[i:i + size]) for i in range(0, len(data), size))


def skippable(content):
    return (0x184D2A50).to_bytes(4, "little") + len(content).to_bytes(4, "little") + content


def zip_file():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("hello.txt", date_time=(2023, 11, 14, 22, 13, 20))
        z.writestr(info, b"hello\n" * 100)
    return buf.getvalue()


def cases():
    small = tar_of([("f", b"content\n")])
    return {
        # item 23: libarchive warnings are refused
        "pax-bad-length": (TAR, lambda: pax(b"99 path=foo\n") + regular(b"f") + END),
        "pax-no-length": (TAR, lambda: pax(b"path=foo\n") + regular(b"f") + END),
        "pax-nul-in-xattr-name": (TAR, lambda: pax(record(b"SCHILY.xattr.user.\0x", b"v")) + regular(b"f") + END),
        "pax-empty-value-no-newline": (TAR, lambda: pax(b"11 user.a=") + regular(b"f") + END),
        "pax-two-headers": (TAR, lambda: pax(record(b"path", b"one")) + pax(record(b"path", b"two")) + regular(b"f") + END),
        "negative-size": (TAR, lambda: ustar(b"neg", size_field=b"\xff" * 12) + END),
        "negative-size-pax": (TAR, lambda: pax(record(b"size", b"-5")) + regular(b"f") + END),
        # names that are not UTF-8, or UTF-8 in a C locale: libarchive warns, the name is kept
        "pax-utf8-name": (TAR, lambda: pax(record(b"path", "\u00e9t\u00e9".encode())) + regular(b"f", b"utf8") + END),
        "pax-latin1-name": (TAR, lambda: pax(record(b"path", b"caf\xe9")) + regular(b"f", b"latin1") + END),
        # item 24: empty layers
        "empty-bytes": (TAR, lambda: b""),
        "empty-bytes-gzip-type": (GZIP, lambda: b""),
        "empty-gzip": (GZIP, lambda: gz(b"")),
        "empty-zstd": (ZSTD, lambda: zst(b"")),
        "end-marker-only": (TAR, lambda: END),
        "empty-tar-gzip": (GZIP, lambda: gz(tar_of([]))),
        # item 25: not a tar
        "not-tar-zip": (TAR, zip_file),
        "not-tar-json": (TAR, lambda: json.dumps({"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown"}]}).encode() * 20),
        "not-tar-elf": (TAR, lambda: b"\x7fELF\x02\x01\x01" + bytes(1017)),
        "not-tar-short": (TAR, lambda: b"too short for a tar header\n"),
        "not-tar-gzip-text": (GZIP, lambda: gz(b"<html><body>502 Bad Gateway</body></html>\n" * 30)),
        "double-gzip": (GZIP, lambda: gz(gz(small))),
        "garbage": (TAR, lambda: bytes((i * 37 + 11) % 256 for i in range(4096))),
        # a tar that is fine, in each compression and shape
        "plain": (TAR, lambda: small),
        "trailing-after-end": (TAR, lambda: small + b"bytes after the end-of-archive marker\n"),
        "gzip-single": (GZIP, lambda: gz(big_tar())),
        "gzip-multi-member": (GZIP, lambda: gz_members(big_tar(), 100_003)),
        "gzip-many-tiny-members": (GZIP, lambda: gz_members(small, 7)),
        "gzip-level-1": (GZIP, lambda: gz(big_tar(), 1)),
        "gzip-stored": (GZIP, lambda: gz(big_tar(), 0)),
        "gzip-as-tar-type": (TAR, lambda: gz(small)),
        "tar-as-gzip-type": (GZIP, lambda: small),
        "zstd-single": (ZSTD, lambda: zst(big_tar())),
        "zstd-multi-frame": (ZSTD, lambda: zst_frames(big_tar(), 300_007)),
        "zstd-skippable-frame": (ZSTD, lambda: skippable(b"metadata") + zst(small) + skippable(b"")),
        "zstd-as-gzip-type": (GZIP, lambda: zst(small)),
        # broken compression
        "gzip-truncated": (GZIP, lambda: gz(big_tar())[: 400_000]),
        "gzip-truncated-trailer": (GZIP, lambda: gz(small)[:-3]),
        "gzip-trailing-garbage": (GZIP, lambda: gz(small) + b"garbage after the gzip member"),
        "gzip-trailing-zeros": (GZIP, lambda: gz(small) + bytes(512)),
        "gzip-bad-crc": (GZIP, lambda: (lambda b: b[:-8] + bytes([b[-8] ^ 0xFF]) + b[-7:])(gz(small))),
        "gzip-corrupt-deflate": (GZIP, lambda: (lambda b: b[:10] + b"\xff" * 16 + b[26:])(gz(big_tar()))),
        "zstd-truncated": (ZSTD, lambda: zst(big_tar())[: 300_000]),
        "zstd-trailing-garbage": (ZSTD, lambda: zst(small) + b"garbage after the frame"),
        # a truncated tar inside a good gzip
        "tar-truncated-in-gzip": (GZIP, lambda: gz(big_tar()[: 2 << 20])),
    }


def tar_digest(data):
    """sha256 of the decompressed stream as gzip -dc / zstd -dc give it (chosen by the magic,
    as the reader chooses), of the bytes themselves when uncompressed, None when the tool fails."""
    if data[:2] == b"\x1f\x8b":
        tool = ["gzip", "-dc"]
    elif data[:4] == b"\x28\xb5\x2f\xfd" or (data[:4] and data[0] & 0xF0 == 0x50 and data[1:4] == b"\x2a\x4d\x18"):
        tool = ["zstd", "-dc"]
    else:
        return hashlib.sha256(data).hexdigest()
    run = subprocess.run(tool, input=data, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return hashlib.sha256(run.stdout).hexdigest() if run.returncode == 0 else None


def write_blob(out, name, table):
    media_type, make = table[name]
    data = make()
    with open(os.path.join(out, name + ".blob"), "wb") as f:
        f.write(data)
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump({"mediaType": media_type, "tarSha256": tar_digest(data)}, f)
    return media_type, data


def write_layout(out, name, table, wrong_diff_id):
    """An OCI layout (tag v1) with CASE as its one layer; prints the manifest digest."""
    media_type, data = table[name]
    data = data()
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(blob):
        digest = hashlib.sha256(blob).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as f:
            f.write(blob)
        return "sha256:" + digest

    diff_id = tar_digest(data) or hashlib.sha256(data).hexdigest()
    if wrong_diff_id:
        diff_id = hashlib.sha256(b"not this layer").hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(config), "size": len(config)},
        "layers": [{"mediaType": media_type, "digest": put(data), "size": len(data)}]}).encode()
    digest = put(manifest)
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": len(manifest),
            "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    print(digest)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(here, "..", "out", "tarstreams"))
    parser.add_argument("--layout")
    parser.add_argument("--wrong-diff-id", action="store_true")
    parser.add_argument("case", nargs="*")
    args = parser.parse_args()
    table = cases()
    if args.layout:
        write_layout(args.layout, args.case[0], table, args.wrong_diff_id)
        return
    os.makedirs(args.out, exist_ok=True)
    for name in args.case or table:
        write_blob(args.out, name, table)


if __name__ == "__main__":
    main()
