#!/bin/bash
# Builds the offline OCI test images into Tests/Fixtures/out/ (git-ignored).
# Idempotent: each set is rebuilt only when its stamp (hash of the scripts, the
# busybox binary and the zstd version) changed. Safe to run concurrently (flock).
# Usage: make-fixtures.sh [--large]    (or FIXTURES_LARGE=1): also build `large`.
# Needs: python3, busybox-static (/bin/busybox), zstd.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/out"
large=0
if [[ "${1:-}" == "--large" || "${FIXTURES_LARGE:-0}" == "1" ]]; then large=1; fi
python="/usr/bin/python3"
[[ -x "$python" ]] || python="$(command -v python3)"

command -v zstd >/dev/null || { echo "make-fixtures: zstd missing; apt-get install -y zstd" >&2; exit 1; }
[[ -x /bin/busybox ]] || { echo "make-fixtures: /bin/busybox missing; apt-get install -y busybox-static" >&2; exit 1; }

mkdir -p "$out"
exec 9>"$here/.make-fixtures.lock"
flock 9
stamp="$( { cat "$here/mkimage.py" "$0" /bin/busybox; zstd --version; } | sha256sum | cut -d' ' -f1)"

# build SET: runs mkimage.py for SET (regular|large) unless out/.stamp-SET matches, then
# swaps each finished image directory in, so a reader never sees a half-built image.
build() {
    local set="$1" tmp name
    if [[ -f "$out/.stamp-$set" && "$(cat "$out/.stamp-$set")" == "$stamp" ]]; then return 0; fi
    tmp="$(mktemp -d "$here/.out-tmp.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    "$python" "$here/mkimage.py" "$tmp" "--set=$set"
    for dir in "$tmp"/*/; do
        name="$(basename "$dir")"
        rm -rf "$out/$name"
        mv "$dir" "$out/$name"
    done
    rm -rf "$tmp"
    trap - EXIT
    echo "$stamp" > "$out/.stamp-$set"
    echo "make-fixtures: built $set images in $out"
}

build regular
if [[ "$large" == 1 ]]; then build large; fi
