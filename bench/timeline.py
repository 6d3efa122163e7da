#!/usr/bin/env python3
"""Stage timeline of one cold `image-worker export --format ext4`, from an strace log.

Usage: timeline.py OUT.json -- image-worker export --data-dir D --format ext4 -o F REF

Runs the command under `strace -f -ttt --seccomp-bpf` tracing only execve, fsync, rename
and unlink calls (cheap: other syscalls are not stopped). The disk is written from the
layer stream by our own writer (no mkfs, no tree) while later layers still download, so the
stages overlap; the timeline splits the wall time at:
- blobs stored: start -> the last blob fsync (every fsync before the disk's own)
- disk in place: -> the rename of the disk's temp file onto the `-o` path
- exit: -> process exit (directory fsync, cleanup)
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
    output = os.path.basename(argv[argv.index("-o") + 1])
    renames = [e[1] for e in events if e[2].startswith("rename") and output + '"' in e[2]]
    in_place = renames[-1] if renames else end
    fsyncs = [e[1] for e in events if e[2].startswith(("fsync", "fdatasync")) and e[1] < in_place]
    blobs_stored = fsyncs[-2] if len(fsyncs) >= 2 else start
    stages = {
        "blobs_stored_s": blobs_stored - start,
        "disk_in_place_s": in_place - start,
        "after_disk_s": end - in_place,
        "total_s": end - start,
        "execve_calls": len([e for e in events if e[2].startswith("execve(") and "ENOENT" not in e[2]]),
        "fsync_calls": len([e for e in events if e[2].startswith(("fsync", "fdatasync"))]),
        "unlink_calls": len([e for e in events if e[2].startswith(("unlink", "rmdir"))]),
    }
    stages = {k: round(v, 3) if isinstance(v, float) else v for k, v in stages.items()}
    with open(out, "w") as f:
        json.dump(stages, f, indent=2)
    print(json.dumps(stages))


if __name__ == "__main__":
    main()
