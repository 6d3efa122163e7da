#!/usr/bin/env python3
"""Stage timeline of one cold `image-worker export --format ext4`, from an strace log.

Usage: timeline.py OUT.json -- image-worker export --data-dir D --format ext4 -o F REF

Runs the command under `strace -f -ttt --seccomp-bpf` tracing only execve, fsync, rename
and unlink calls (cheap: other syscalls are not stopped), then splits the wall time at:
- download: start -> last fsync before mkfs (blob commits; manifest and config included)
- apply + scan: -> execve mkfs.ext4 (layers inflated into the rootfs, then the sizing walk)
- mkfs.ext4: its execve -> its exit; then (debugfs when the root mode is not 0755) until
- resize2fs -M: its execve -> its exit
- commit + rootfs removal: -> process exit (fsync+rename of the disk, unlink of the tree)
Prints and writes the stages as JSON.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")


def main():
    out, argv = sys.argv[1], sys.argv[sys.argv.index("--") + 1:]
    with tempfile.NamedTemporaryFile(suffix=".strace", delete=False) as log:
        path = log.name
    try:
        subprocess.run(["strace", "-f", "-ttt", "--seccomp-bpf", "-o", path,
                        "-e", "trace=execve,fsync,fdatasync,rename,renameat,renameat2,unlink,unlinkat,rmdir,exit_group"]
                       + argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        events = []
        with open(path) as f:
            for line in f:
                m = LINE.match(line)
                if m:
                    events.append((int(m.group(1)), float(m.group(2)), m.group(3)))
    finally:
        os.unlink(path)
    start, end = events[0][1], events[-1][1]
    def spawn(tool, after):
        """(pid, start, exit) of the first successful execve of `tool` after `after`."""
        pid, begin = next((e[0], e[1]) for e in events
                          if e[2].startswith("execve(") and "/" + tool + '"' in e[2] and "ENOENT" not in e[2]
                          and e[1] >= after)
        return pid, begin, next(e[1] for e in events if e[0] == pid and "exited with" in e[2])

    _, mkfs_start, mkfs_end = spawn("mkfs.ext4", start)
    _, resize_start, resize_exit = spawn("resize2fs", mkfs_end)
    fsyncs = [e[1] for e in events if e[2].startswith("fsync") and e[1] < mkfs_start]
    download_end = max(fsyncs) if fsyncs else start
    unlinks = [e[1] for e in events if e[2].startswith(("unlink", "rmdir")) and e[1] > resize_exit]
    stages = {
        "download_s": download_end - start,
        "apply_and_scan_s": mkfs_start - download_end,
        "mkfs_s": mkfs_end - mkfs_start,
        "between_mkfs_and_resize_s": resize_start - mkfs_end,
        "resize2fs_s": resize_exit - resize_start,
        "commit_s": (unlinks[0] if unlinks else end) - resize_exit,
        "rootfs_removal_s": (unlinks[-1] - unlinks[0]) if unlinks else 0.0,
        "total_s": end - start,
        "fsync_calls": len([e for e in events if e[2].startswith(("fsync", "fdatasync"))]),
        "unlink_calls": len([e for e in events if e[2].startswith(("unlink", "rmdir"))]),
    }
    stages = {k: round(v, 3) if isinstance(v, float) else v for k, v in stages.items()}
    with open(out, "w") as f:
        json.dump(stages, f, indent=2)
    print(json.dumps(stages))


if __name__ == "__main__":
    main()
