#!/usr/bin/env python3
"""Prints the tree of an unpacked root filesystem in expected.json's "tree" format.

Usage: scantree.py ROOT    (JSON object path -> node on stdout)
The same node fields as mkimage.py's model: type, mode (permission bits incl.
setuid/setgid/sticky), uid, gid, size+sha256 (files), target (symlinks),
devMajor/devMinor (devices), xattrs (base64, not for symlinks), link (hardlink
group, numbered by first appearance in sorted path order), rawPath (base64 of
the path bytes when they are not UTF-8).
"""

import base64
import hashlib
import json
import os
import stat
import sys


def scan(root):
    root = os.fsencode(root)
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            found[os.path.relpath(full, root)] = full
    inodes, counts, out = {}, {}, {}
    for rel in sorted(found):
        st = os.lstat(found[rel])
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            counts[(st.st_dev, st.st_ino)] = counts.get((st.st_dev, st.st_ino), 0) + 1
    for rel in sorted(found):
        full = found[rel]
        st = os.lstat(full)
        mode = st.st_mode
        node = {"mode": stat.S_IMODE(mode), "uid": st.st_uid, "gid": st.st_gid}
        if stat.S_ISDIR(mode):
            node["type"] = "dir"
        elif stat.S_ISREG(mode):
            node["type"] = "file"
            node["size"] = st.st_size
            h = hashlib.sha256()
            with open(full, "rb") as src:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    h.update(chunk)
            node["sha256"] = h.hexdigest()
            key = (st.st_dev, st.st_ino)
            if counts.get(key, 0) > 1:
                node["link"] = inodes.setdefault(key, len(inodes) + 1)
        elif stat.S_ISLNK(mode):
            node["type"] = "symlink"
            node["target"] = os.fsdecode(os.readlink(full))
        elif stat.S_ISFIFO(mode):
            node["type"] = "fifo"
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            node["type"] = "char" if stat.S_ISCHR(mode) else "block"
            node["devMajor"], node["devMinor"] = os.major(st.st_rdev), os.minor(st.st_rdev)
        else:
            node["type"] = "socket"
        if not stat.S_ISLNK(mode):
            names = sorted(os.listxattr(full, follow_symlinks=False))
            if names:
                node["xattrs"] = {n: base64.b64encode(os.getxattr(full, n, follow_symlinks=False)).decode()
                                  for n in names}
        try:
            key = rel.decode("utf-8")
        except UnicodeDecodeError:
            key = rel.decode("utf-8", "backslashreplace")
            node["rawPath"] = base64.b64encode(rel).decode()
        out[key] = node
    return out


if __name__ == "__main__":
    json.dump(scan(sys.argv[1]), sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")
