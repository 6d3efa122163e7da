#!/usr/bin/env python3
"""Wraps layer tars (uncompressed, gzip or zstd, by suffix) into an OCI layout tagged `latest`.

Usage: make-layout.py OUTDIR LAYER.tar...   (base layer first; prints the manifest digest)
For comparing the model builder with `umoci unpack` on the same layers, and for the special
images of special-image.py.
"""
import gzip, hashlib, json, os, subprocess, sys


def write_layout(out, tars):
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(data):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as f:
            f.write(data)
        return "sha256:" + digest

    layers, diff_ids = [], []
    for path in tars:
        data = open(path, "rb").read()
        if path.endswith(".gz"):
            raw, media = gzip.decompress(data), "application/vnd.oci.image.layer.v1.tar+gzip"
        elif path.endswith(".zst"):
            raw = subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=True).stdout
            media = "application/vnd.oci.image.layer.v1.tar+zstd"
        else:
            raw, media = data, "application/vnd.oci.image.layer.v1.tar"
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        layers.append({"mediaType": media, "digest": put(data), "size": len(data)})
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(config),
                                      "size": len(config)},
                           "layers": layers}).encode()
    digest = put(manifest)
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "digest": digest, "size": len(manifest),
                   "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    return digest


if __name__ == "__main__":
    print(write_layout(sys.argv[1], sys.argv[2:]))
