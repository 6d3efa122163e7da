#!/bin/bash
# Builds the offline OCI test images into Tests/Fixtures/out/ (git-ignored).
# Idempotent: skips the build when the stamp (hash of the scripts, the busybox
# binary, the zstd version and the --large choice) matches the last build.
# Usage: make-fixtures.sh [--large]    (or FIXTURES_LARGE=1)
# Needs: python3, busybox-static (/bin/busybox), zstd.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/out"
large=""
if [[ "${1:-}" == "--large" || "${FIXTURES_LARGE:-0}" == "1" ]]; then large="--large"; fi
python="/usr/bin/python3"
[[ -x "$python" ]] || python="$(command -v python3)"

for tool in zstd; do
    command -v "$tool" >/dev/null || { echo "make-fixtures: $tool missing; apt-get install -y zstd" >&2; exit 1; }
done
[[ -x /bin/busybox ]] || { echo "make-fixtures: /bin/busybox missing; apt-get install -y busybox-static" >&2; exit 1; }

exec 9>"$here/.make-fixtures.lock"
flock 9
stamp="$( { cat "$here/mkimage.py" "$0" /bin/busybox; zstd --version; echo "$large"; } | sha256sum | cut -d' ' -f1)"
if [[ -f "$out/.stamp" && "$(cat "$out/.stamp")" == "$stamp" ]]; then
    exit 0
fi

tmp="$(mktemp -d "$here/.out-tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$python" "$here/mkimage.py" "$tmp" $large
echo "$stamp" > "$tmp/.stamp"
# Swap in the finished tree, so a concurrent reader never sees a half-built one.
rm -rf "$out.old"
[[ -d "$out" ]] && mv "$out" "$out.old"
mv "$tmp" "$out"
rm -rf "$out.old"
trap - EXIT
echo "make-fixtures: built $(ls "$out" | tr '\n' ' ')in $out"
