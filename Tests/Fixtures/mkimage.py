#!/usr/bin/env python3
"""Builds the offline OCI test images under Tests/Fixtures/out/.

Every layer is crafted entry by entry with tarfile (PAX format, fixed mtime, no
user/group names), so owners, devices, xattrs and whiteouts are exact and every
digest is reproducible. Beside each layout an expected.json describes the merged
tree, computed here from the same entry list by a small model of the OCI
whiteout rules, independent of image-worker's code. See docs/fixtures.md.

Usage: mkimage.py OUTDIR [--set=regular|--set=large]
(regular: multilayer*, multiarch*; large: the 200 MiB image alone)
"""

import base64
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile

MTIME = 1700000000
BUSYBOX = "/bin/busybox"
APPLETS = ["sh", "ls", "cat", "id", "mount", "umount", "echo", "mkdir", "rm", "cp", "mv",
           "ln", "chmod", "chown", "stat", "sleep", "env", "test", "true", "false", "uname",
           "ps", "grep", "sed", "head", "tail", "wc", "find", "readlink", "sha256sum", "touch"]
RELEASE_TEXT = "image-worker fixture multilayer release 1 (marker 5b0c1e7a-fixture)\n"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
             "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
             "none": "application/vnd.oci.image.layer.v1.tar"}
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


# MARK: - entries

def cap_net_raw_ep():
    """VFS_CAP_REVISION_2 value for cap_net_raw+ep: magic|effective, permitted bit 13."""
    return (0x02000001).to_bytes(4, "little") + (1 << 13).to_bytes(4, "little") + bytes(12)


def det_bytes(seed, size):
    return random.Random(seed).randbytes(size)


class E:
    """One tar entry: kind is file, dir, symlink, hardlink, fifo, char, block."""

    def __init__(self, path, kind, mode, uid=0, gid=0, data=b"", target=None,
                 dev=(0, 0), xattrs=None):
        self.path = path if isinstance(path, bytes) else path.encode()
        self.kind, self.mode, self.uid, self.gid = kind, mode, uid, gid
        self.data, self.target, self.dev = data, target, dev
        self.xattrs = xattrs or {}


def d(path, mode=0o755, uid=0, gid=0):
    return E(path, "dir", mode, uid, gid)


def f(path, data, mode=0o644, uid=0, gid=0, xattrs=None):
    return E(path, "file", mode, uid, gid, data=data if isinstance(data, bytes) else data.encode(),
             xattrs=xattrs)


def sym(path, target):
    return E(path, "symlink", 0o777, target=target)


def hard(path, target):
    return E(path, "hardlink", 0, target=target)


def base_layer():
    entries = [d("bin"), f("bin/busybox", open(BUSYBOX, "rb").read(), 0o755)]
    entries += [sym("bin/" + a, "busybox") for a in APPLETS]
    entries += [
        d("dev"), d("etc"),
        f("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:Fixture User:/home/user:/bin/sh\n"),
        f("etc/group", "root:x:0:\ndisk:x:6:\nuser:x:1000:\n"),
        f("etc/fixture-release", RELEASE_TEXT),
        d("home"), d("opt"),
        f("opt/delete-me.txt", "whited out by layer 2\n"),
        d("opt/opaque"), f("opt/opaque/old-a.txt", "hidden by opaque dir\n"),
        d("opt/opaque/old-sub"), f("opt/opaque/old-sub/old-b.txt", "hidden too\n"),
        d("opt/dir2file"), f("opt/dir2file/child.txt", "gone when dir becomes a file\n"),
        f("opt/file2dir", "a file that becomes a directory\n"),
        d("opt/gone-dir"), f("opt/gone-dir/inner.txt", "whole directory whited out\n"),
        f("opt/lower-target.txt", "hardlinked from layer 2\n"),
        d("proc", 0o555), d("root", 0o700), d("sys", 0o555), d("tmp", 0o1777),
        d("usr"), d("usr/bin"), d("var"), d("var/lib"),
    ]
    return entries


def layer_two():
    long_dir = "data/long/" + "d" * 60
    return [
        f("opt/.wh.delete-me.txt", b""),
        d("opt/opaque"), f("opt/opaque/.wh..wh..opq", b""),
        f("opt/opaque/new-c.txt", "added beside the opaque marker\n"),
        d("data"),
        f("data/hard-a.txt", "two names, one inode\n"),
        hard("data/hard-b.txt", "data/hard-a.txt"),
        hard("data/link-to-lower.txt", "opt/lower-target.txt"),
        sym("data/rel-link", "../etc/fixture-release"),
        sym("data/abs-link", "/etc/passwd"),
        sym("data/dangling", "/nonexistent/target"),
        f("usr/bin/suid-tool", "#!/bin/sh\necho suid\n", 0o4755),
        d("srv"), d("srv/setgid-dir", 0o2775, 0, 1000), d("srv/sticky", 0o1777),
        E("dev/fixture-fifo", "fifo", 0o644),
        E("dev/fixture-null", "char", 0o666, dev=(1, 3)),
        E("dev/fixture-loop0", "block", 0o660, 0, 6, dev=(7, 0)),
        d("home/user", 0o750, 1000, 1000),
        f("home/user/notes.txt", "owned by the user\n", 0o640, 1000, 1000),
        f("data/cap-file", "#!/bin/sh\necho ping\n", 0o755,
          xattrs={"security.capability": cap_net_raw_ep()}),
        f("data/user-xattr.txt", "has a user xattr\n", xattrs={"user.fixture": b"hello xattr"}),
        f("data/name with spaces.txt", "spaces\n"),
        f("data/ünïcødé-名前.txt", "utf-8 name\n"),
        f(b"data/bad-\xff-name.txt", "not utf-8 name\n"),
        d("data/long"), d(long_dir),
        f(long_dir + "/" + "f" * 80 + ".txt", "path longer than 100 bytes\n"),
        f("data/random-4m.bin", det_bytes(4, 4 << 20)),
    ]


def layer_three():
    return [
        f("opt/dir2file", "a directory replaced by a file\n"),
        d("opt/file2dir", 0o751), f("opt/file2dir/inside.txt", "file replaced by a directory\n"),
        f("opt/.wh.gone-dir", b""),
        f("etc/layer3-marker", "layer three applied\n"),
    ]


def arch_layer(arch):
    return [f("etc/arch", arch + "\n")]


# MARK: - tar

def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT,
                      encoding="utf-8", errors="surrogateescape") as tar:
        for e in entries:
            ti = tarfile.TarInfo(e.path.decode("utf-8", "surrogateescape"))
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = MTIME, e.uid, e.gid, "", ""
            ti.mode = e.mode
            body = None
            if e.kind == "dir":
                ti.type = tarfile.DIRTYPE
            elif e.kind == "file":
                ti.type, ti.size, body = tarfile.REGTYPE, len(e.data), io.BytesIO(e.data)
            elif e.kind == "symlink":
                ti.type, ti.linkname = tarfile.SYMTYPE, e.target
            elif e.kind == "hardlink":
                ti.type, ti.linkname, ti.mode = tarfile.LNKTYPE, e.target, 0o644
            elif e.kind == "fifo":
                ti.type = tarfile.FIFOTYPE
            else:
                ti.type = tarfile.CHRTYPE if e.kind == "char" else tarfile.BLKTYPE
                ti.devmajor, ti.devminor = e.dev
            if e.xattrs:
                ti.pax_headers = {"SCHILY.xattr." + k: v.decode("utf-8", "surrogateescape")
                                  for k, v in e.xattrs.items()}
            tar.addfile(ti, body)
    return buf.getvalue()


def compress(raw, kind, level=6):
    if kind == "none":
        return raw
    if kind == "gzip":
        out = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=level) as g:
            g.write(raw)
        return out.getvalue()
    return subprocess.run(["zstd", "-q", "-3", "-c", "--no-check"], input=raw,
                          stdout=subprocess.PIPE, check=True).stdout


# MARK: - merged-tree model

def apply_layer(tree, entries, state):
    """tree: bytes path -> node dict. Whiteouts hide lower entries only."""
    def remove(p):
        for k in [k for k in tree if k == p or k.startswith(p + b"/")]:
            del tree[k]

    lower = set(tree)
    for e in entries:
        parent, _, name = e.path.rpartition(b"/")
        if name == b".wh..wh..opq":
            for k in [k for k in lower if k.startswith(parent + b"/")]:
                tree.pop(k, None)
            continue
        if name.startswith(b".wh."):
            remove((parent + b"/" if parent else b"") + name[4:])
            continue
        old = tree.get(e.path)
        if old is not None and not (old["type"] == "dir" and e.kind == "dir"):
            remove(e.path)
        if e.kind == "hardlink":
            src = tree[e.target.encode()]
            if "link" not in src:
                state["links"] += 1
                src["link"] = state["links"]
            tree[e.path] = src  # the same node object: one inode, two names
            continue
        node = {"type": e.kind, "mode": e.mode, "uid": e.uid, "gid": e.gid}
        if e.kind == "file":
            node["size"] = len(e.data)
            node["sha256"] = hashlib.sha256(e.data).hexdigest()
        elif e.kind == "symlink":
            node["target"] = e.target
        elif e.kind in ("char", "block"):
            node["devMajor"], node["devMinor"] = e.dev
        if e.xattrs:
            node["xattrs"] = {k: base64.b64encode(v).decode() for k, v in sorted(e.xattrs.items())}
        tree[e.path] = node


def merged_tree(layers):
    tree, state = {}, {"links": 0}
    for entries in layers:
        apply_layer(tree, entries, state)
    return tree_json(tree)


def tree_json(tree):
    """Bytes-keyed nodes to the expected.json tree; hardlink groups are renumbered
    1, 2, ... by first appearance in sorted path order, so trees compare with ==."""
    out, renumber = {}, {}
    for raw in sorted(tree):
        node = dict(tree[raw])
        if "link" in node:
            node["link"] = renumber.setdefault(node["link"], len(renumber) + 1)
        try:
            key = raw.decode("utf-8")
        except UnicodeDecodeError:
            key = raw.decode("utf-8", "backslashreplace")
            node["rawPath"] = base64.b64encode(raw).decode()
        out[key] = node
    return out


# MARK: - layout writing

class Layout:
    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)

    def blob(self, data, media_type, **extra):
        digest = hashlib.sha256(data).hexdigest()
        path = os.path.join(self.root, "blobs", "sha256", digest)
        if not os.path.exists(path):
            with open(path, "wb") as out:
                out.write(data)
        return dict({"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}, **extra)

    def json_blob(self, obj, media_type, **extra):
        return self.blob(json.dumps(obj, indent=2, sort_keys=True).encode(), media_type, **extra)

    def finish(self, top, expected):
        top = dict(top, annotations={"org.opencontainers.image.ref.name": "latest"})
        write_json(os.path.join(self.root, "index.json"),
                   {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [top]})
        write_json(os.path.join(self.root, "oci-layout"), {"imageLayoutVersion": "1.0.0"})
        write_json(os.path.join(self.root, "expected.json"), expected)


def write_json(path, obj):
    with open(path, "w") as out:
        json.dump(obj, out, indent=2, sort_keys=True, ensure_ascii=False)
        out.write("\n")


# Config overrides per image name: `systemd` boots /sbin/init (the seed's IsSystemdImage) and
# lists Env in non-alphabetical order, so tests can tell order kept from order sorted.
CONFIG_OVERRIDES = {
    "systemd": {"Entrypoint": None, "Cmd": ["/sbin/init"],
                "Env": ["container=oci", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"],
                "WorkingDir": "/", "User": "root", "StopSignal": "SIGRTMIN+3"},
}


def config_for(name, raw_layers, arch="amd64", docker=False):
    config = {
        "Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hello from " + name],
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "FIXTURE=" + name, "NOVALUE"],
        "WorkingDir": "/home/user", "User": "1000:1000",
        "Labels": {"org.example.fixture": name, "org.example.empty": ""},
        "ExposedPorts": {"8080/tcp": {}, "53/udp": {}}, "StopSignal": "SIGTERM",
    }
    for key, value in CONFIG_OVERRIDES.get(name, {}).items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    return {
        "architecture": arch, "os": "linux", "created": "2023-11-14T22:13:20Z",
        "config": config,
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(r).hexdigest() for r in raw_layers]},
        "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "mkimage.py layer %d" % i}
                    for i in range(len(raw_layers))],
    }


def image_manifest(layout, name, layers, compression, arch="amd64", docker=False, level=6):
    raws = [tar_bytes(entries) for entries in layers]
    layer_type = DOCKER_LAYER if docker else OCI_LAYER[compression]
    descs = [layout.blob(compress(r, compression, level), layer_type) for r in raws]
    config = layout.json_blob(config_for(name, raws, arch, docker), DOCKER_CONFIG if docker else OCI_CONFIG)
    manifest = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
                "config": config, "layers": descs}
    desc = layout.json_blob(manifest, manifest["mediaType"])
    return desc, {"manifestDigest": desc["digest"], "configDigest": config["digest"],
                  "layerDigests": [x["digest"] for x in descs],
                  "diffIDs": config_for(name, raws)["rootfs"]["diff_ids"],
                  "tree": merged_tree(layers)}


def build_single(out, name, layers, compression="gzip", docker=False, level=6):
    layout = Layout(os.path.join(out, name))
    desc, info = image_manifest(layout, name, layers, compression, docker=docker, level=level)
    layout.finish(desc, dict({"format": 1, "image": name, "mediaType": desc["mediaType"]}, **info))


def build_index(out, name, base, docker=False):
    layout = Layout(os.path.join(out, name))
    children, platforms = [], {}
    for arch in ("amd64", "arm64"):
        desc, info = image_manifest(layout, name, [base, arch_layer(arch)], "gzip", arch, docker)
        desc["platform"] = {"architecture": arch, "os": "linux"}
        children.append(desc)
        platforms["linux/" + arch] = info
    media = DOCKER_LIST if docker else OCI_INDEX
    index = layout.json_blob({"schemaVersion": 2, "mediaType": media, "manifests": children}, media)
    layout.finish(index, {"format": 1, "image": name, "mediaType": media,
                          "indexDigest": index["digest"], "platforms": platforms})


def build_large(out):
    """One gzip layer (level 1) holding a 200 MiB incompressible file."""
    data = det_bytes(200, 200 << 20)
    layers = [[d("data"), f("data/large.bin", data)]]
    build_single(out, "large", layers, "gzip", level=1)


def main():
    out = sys.argv[1]
    if "--set=large" in sys.argv[2:]:
        build_large(out)
        return
    base, two, three = base_layer(), layer_two(), layer_three()
    layers = [base, two, three]
    build_single(out, "multilayer", layers, "gzip")
    build_single(out, "multilayer-zstd", layers, "zstd")
    build_single(out, "multilayer-uncompressed", layers, "none")
    build_single(out, "multilayer-docker", layers, "gzip", docker=True)
    build_index(out, "multiarch", base)
    build_index(out, "multiarch-docker", base, docker=True)
    build_single(out, "systemd", [base], "gzip")


if __name__ == "__main__":
    main()
