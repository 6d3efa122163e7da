#!/bin/bash
# Times reading the debian-minbase layer (bench/out/images/debian-minbase, built by
# bench/mkimages.py from bench/run.sh's debootstrap tarball) five ways, each INFLATE_ROUNDS
# times, and prints medians of wall and CPU (user + system) seconds: gzip -dc, pigz -dc,
# igzip -dc (isa-l's CLI), and inflate-bench (bench/InflateBench, release) inflating only,
# reading every tar entry on one thread, and with the inflate on its own thread.
# Env: INFLATE_ROUNDS (5), INFLATE_LAYER (another gzip layer file), INFLATE_MEDIA_TYPE.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${INFLATE_ROUNDS:-5}"
media_type="${INFLATE_MEDIA_TYPE:-application/vnd.oci.image.layer.v1.tar+gzip}"
layer="${INFLATE_LAYER:-}"
if [[ -z "$layer" ]]; then
    images="$root/bench/out/images/debian-minbase"
    [[ -f "$images/index.json" ]] || { echo "inflate: $images missing; run bench/run.sh (or mkimages.py bench/out debian) first" >&2; exit 1; }
    layer="$(ls -S "$images"/blobs/sha256/* | head -n 1)"
fi
(cd "$root" && swift build -c release --product inflate-bench >/dev/null)
bin="$root/.build/release/inflate-bench"

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

tool() {
    local name="$1"; shift
    local walls=() cpus=()
    for _ in $(seq "$rounds"); do
        local line
        line="$( { /usr/bin/time -f "%e %U %S" "$@" "$layer" >/dev/null; } 2>&1 | tail -n 1)"
        walls+=("$(awk '{ print $1 }' <<<"$line")")
        cpus+=("$(awk '{ print $2 + $3 }' <<<"$line")")
    done
    printf '{"mode": "%s", "wall_s": %s, "cpu_s": %s}\n' "$name" \
        "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)"
}

ours() {
    local mode="$1" walls=() cpus=() line=""
    for _ in $(seq "$rounds"); do
        line="$("$bin" "$mode" "$media_type" "$layer")"
        walls+=("$(sed -E 's/.*"wall_s":([0-9.e-]+).*/\1/' <<<"$line")")
        cpus+=("$(sed -E 's/.*"cpu_s":([0-9.e-]+).*/\1/' <<<"$line")")
    done
    printf '{"mode": "inflate-bench %s", "wall_s": %s, "cpu_s": %s, "last": %s}\n' "$mode" \
        "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)" "$line"
}

echo "layer: $layer ($(stat -c %s "$layer") bytes), $rounds rounds, medians"
tool "gzip -dc" gzip -dc
tool "pigz -dc" pigz -dc
tool "igzip -dc" igzip -dc
ours inflate
ours tar
ours tar-threaded
