#!/usr/bin/env python3
"""Writes an OCI layout whose one layer holds a file at a 4,061-byte path (issue #10 item 6).

Usage: deep-path-image.py OUTDIR   (prints the manifest digest)
Nineteen nested 200-byte directory names and a 41-byte file name: within the 4,096-byte path
limit of a layer entry, but beyond PATH_MAX once the scratch directory is in front of it.
"""
import gzip, hashlib, io, json, os, sys, tarfile
out = sys.argv[1]
blobs = os.path.join(out, "blobs", "sha256"); os.makedirs(blobs, exist_ok=True)
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, d), "wb").write(data); return "sha256:" + d
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
    path, used = "", 0
    while used + 201 + 40 <= 4061:
        path += ("d" * 200) + "/"; used += 201
        t = tarfile.TarInfo(path.rstrip("/")); t.type = tarfile.DIRTYPE; t.mode = 0o755; t.mtime = 1700000000
        tar.addfile(t)
    name = path + "x" * (4061 - used)
    data = b"deep\n"
    t = tarfile.TarInfo(name); t.size = len(data); t.mode = 0o644; t.mtime = 1700000000
    tar.addfile(t, io.BytesIO(data))
raw = buf.getvalue()
layer = gzip.compress(raw, mtime=0)
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}}).encode()
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(layer), "size": len(layer)}]}).encode()
digest = put(manifest)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": digest, "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "v1"}}]},
    open(os.path.join(out, "index.json"), "w"))
open(os.path.join(out, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
print(digest)
