#!/usr/bin/env python3
"""Builds the benchmark's OCI image layouts (one gzip layer each) under OUT/images/.

Usage: mkimages.py OUT [debian] [smallfiles] [large] [empty]

debian:     OUT/cache/debian-minbase-bookworm.tar (made by run.sh with debootstrap).
smallfiles: 20,000 files in one directory plus a copy of /usr/share/zoneinfo (or a
            generated tree of the same shape when it is missing).
large:      one 500 MiB file of random bytes (incompressible), gzip level 1.
empty:      200,000 empty files in one directory (`many/e-000000` ...), written straight
            as a tar stream by Python's tarfile (no host tree: creating and deleting 200,000
            files is slow on a busy disk and the tar is all the image needs).

An image whose index.json exists is kept (delete OUT/images/NAME to rebuild). Layer tars
are written by GNU tar with --numeric-owner and gzip -n, then hashed by streaming, so no
image is ever held in memory.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MTIME = 1700000000
SMALL_FILES = 20000
EMPTY_FILES = 200000


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def put_blob(root, path):
    """Moves the file at `path` into root/blobs/sha256/<hex>; returns (hex, size)."""
    hex_digest = sha256_file(path)
    size = os.path.getsize(path)
    os.replace(path, os.path.join(root, "blobs", "sha256", hex_digest))
    return hex_digest, size


def put_json(root, obj):
    data = json.dumps(obj, sort_keys=True).encode()
    hex_digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(root, "blobs", "sha256", hex_digest), "wb") as out:
        out.write(data)
    return hex_digest, len(data)


def write_layout(out, name, tar_path, level=6):
    """One-layer gzip OCI image from the uncompressed layer tar at `tar_path`."""
    final = os.path.join(out, "images", name)
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "blobs", "sha256"))
    diff_id = sha256_file(tar_path)
    gz = os.path.join(tmp, "layer.gz")
    with open(gz, "wb") as dst:
        subprocess.run(["gzip", "-n", "-%d" % level, "-c", tar_path], stdout=dst, check=True)
    layer_hex, layer_size = put_blob(tmp, gz)
    config = {
        "architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
        "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "bench/mkimages.py " + name}],
    }
    config_hex, config_size = put_json(tmp, config)
    manifest = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": "sha256:" + config_hex, "size": config_size},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": "sha256:" + layer_hex, "size": layer_size}],
    }
    manifest_hex, manifest_size = put_json(tmp, manifest)
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [{
        "mediaType": OCI_MANIFEST, "digest": "sha256:" + manifest_hex, "size": manifest_size,
        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}
    with open(os.path.join(tmp, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(tmp, "index.json"), "w") as f:
        json.dump(index, f)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    print("mkimages: %s: layer %d bytes gzip, manifest sha256:%s" % (name, layer_size, manifest_hex))


def tar_tree(root, tar_path):
    subprocess.run(["tar", "--numeric-owner", "--sort=name", "--mtime=@%d" % MTIME,
                    "-C", root, "-cf", tar_path, "."], check=True)


def build_debian(out):
    tar_path = os.path.join(out, "cache", "debian-minbase-bookworm.tar")
    write_layout(out, "debian-minbase", tar_path)


def build_smallfiles(out, work):
    root = os.path.join(work, "smallfiles")
    many = os.path.join(root, "many")
    os.makedirs(many)
    for i in range(SMALL_FILES):
        with open(os.path.join(many, "file-%05d.txt" % i), "w") as f:
            f.write(("small file %d\n" % i) * (1 + i % 40))
    zone = os.path.join(root, "usr", "share", "zoneinfo")
    if os.path.isdir("/usr/share/zoneinfo"):
        shutil.copytree("/usr/share/zoneinfo", zone, symlinks=True)
    else:
        for region in range(20):
            region_dir = os.path.join(zone, "Region%02d" % region)
            os.makedirs(region_dir)
            for city in range(80):
                with open(os.path.join(region_dir, "City%02d" % city), "wb") as f:
                    f.write(b"TZif2" + bytes(range(256)) * (4 + city % 8))
    tar_path = os.path.join(work, "smallfiles.tar")
    tar_tree(root, tar_path)
    write_layout(out, "smallfiles", tar_path)


def build_large(out, work):
    root = os.path.join(work, "large")
    os.makedirs(os.path.join(root, "data"))
    with open(os.path.join(root, "data", "large.bin"), "wb") as dst:
        subprocess.run(["head", "-c", str(500 << 20), "/dev/urandom"], stdout=dst, check=True)
    tar_path = os.path.join(work, "large.tar")
    tar_tree(root, tar_path)
    shutil.rmtree(root)
    write_layout(out, "large500", tar_path, level=1)


def build_empty(out, work):
    tar_path = os.path.join(work, "empty.tar")
    with tarfile.open(tar_path, "w", format=tarfile.GNU_FORMAT) as tar:
        def add(name, kind, mode):
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime, info.uid, info.gid = kind, mode, MTIME, 0, 0
            tar.addfile(info)
        add("many", tarfile.DIRTYPE, 0o755)
        for i in range(EMPTY_FILES):
            add("many/e-%06d" % i, tarfile.REGTYPE, 0o644)
    write_layout(out, "empty200k", tar_path)


def main():
    out = sys.argv[1]
    wanted = sys.argv[2:]
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    for name in wanted:
        image = {"debian": "debian-minbase", "smallfiles": "smallfiles", "large": "large500",
                 "empty": "empty200k"}[name]
        if os.path.exists(os.path.join(out, "images", image, "index.json")):
            continue
        with tempfile.TemporaryDirectory(dir=out) as work:
            if name == "debian":
                build_debian(out)
            elif name == "smallfiles":
                build_smallfiles(out, work)
            elif name == "empty":
                build_empty(out, work)
            else:
                build_large(out, work)


if __name__ == "__main__":
    main()
