#!/bin/bash
# `make bench`: image-worker against skopeo+umoci+mkfs and the floor, on a loopback
# docker-registry; see docs/bench.md. Writes bench/out/results.json and results.md.
#
# Env: BENCH_ROUNDS (default 3), BENCH_FORMATS (default ext4,erofs), BENCH_IMAGES (default
# "debian large multilayer smallfiles empty"), BENCH_EROFS_IMAGES (images also measured as
# erofs, default debian-minbase,multilayer,empty200k), BENCH_QUICK=1 (smoke: multilayer, 1
# round, small queue run; ~30 s after the release build), BENCH_SKIP_BUILD=1 (use the existing
# binary), BENCH_BIN (another image-worker binary, e.g. a debug build), BENCH_TIMEOUT (seconds
# any one command may take, default 120: a slower one is killed and its step reported as a
# timeout, FAIL in the acceptance table, instead of hanging the run).
# Needs root and: debootstrap, docker-registry, skopeo, umoci, e2fsprogs, erofs-utils, zstd,
# python3-cryptography, strace (optional).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/bench/out"
python="/usr/bin/python3"
rounds="${BENCH_ROUNDS:-3}"
formats="${BENCH_FORMATS:-ext4,erofs}"
images="${BENCH_IMAGES:-debian large multilayer smallfiles empty}"
erofs_images="${BENCH_EROFS_IMAGES:-debian-minbase,multilayer,empty200k}"
queue_jobs=20000
if [[ "${BENCH_QUICK:-0}" == "1" ]]; then
    rounds=1
    images="multilayer"
    queue_jobs=2000
fi

[[ "$(id -u)" == 0 ]] || { echo "bench: run as root (umoci unpack, mkfs -d of a rootfs)" >&2; exit 1; }
for tool in docker-registry skopeo umoci mkfs.ext4 mkfs.erofs zstd igzip; do
    command -v "$tool" >/dev/null || { echo "bench: $tool missing (see docs/bench.md)" >&2; exit 1; }
done
mkdir -p "$out/cache"

if [[ "${BENCH_SKIP_BUILD:-0}" != "1" ]]; then
    (cd "$root" && swift build -c release)
fi
bin="${BENCH_BIN:-$root/.build/release/image-worker}"
[[ -x "$bin" ]] || { echo "bench: $bin missing; run swift build -c release" >&2; exit 1; }

"$root/Tests/Fixtures/make-fixtures.sh"

# The Debian mirror apt already uses on this machine (first main-archive URI in its sources).
apt_mirror() {
    cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
        | grep -oE '(URIs:|^deb) +[^ ]+' | awk '{print $2}' | grep -v -- '-security' | head -n 1
}

# The debootstrap tarball is cached: a rerun reuses bench/out/cache/debian-minbase-bookworm.tar.
if [[ " $images " == *" debian "* && ! -f "$out/cache/debian-minbase-bookworm.tar" ]]; then
    command -v debootstrap >/dev/null || { echo "bench: debootstrap missing; apt-get install -y debootstrap" >&2; exit 1; }
    tmp="$out/cache/root.tmp"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    echo "bench: debootstrap --variant=minbase bookworm (once)"
    debootstrap --variant=minbase bookworm "$tmp" "${BENCH_MIRROR:-$(apt_mirror)}" >"$out/cache/debootstrap.log" 2>&1
    tar --numeric-owner -C "$tmp" -cf "$out/cache/debian-minbase-bookworm.tar.tmp" .
    mv "$out/cache/debian-minbase-bookworm.tar.tmp" "$out/cache/debian-minbase-bookworm.tar"
    rm -rf "$tmp"
fi

build=()
specs=()
for image in $images; do
    case "$image" in
        debian) build+=(debian); specs+=("debian-minbase=$out/images/debian-minbase") ;;
        smallfiles) build+=(smallfiles); specs+=("smallfiles=$out/images/smallfiles") ;;
        large) build+=(large); specs+=("large500=$out/images/large500") ;;
        empty) build+=(empty); specs+=("empty200k=$out/images/empty200k") ;;
        multilayer) specs+=("multilayer=$root/Tests/Fixtures/out/multilayer") ;;
        *) echo "bench: unknown image $image" >&2; exit 1 ;;
    esac
done
if ((${#build[@]})); then "$python" "$root/bench/mkimages.py" "$out" "${build[@]}"; fi

# The registry stops when its stdin (this fifo, held open on fd 7) reaches EOF.
run="$(mktemp -d "$out/run.XXXXXX")"
registry_pid=""
cleanup() {
    exec 7>&- || true
    if [[ -n "$registry_pid" ]]; then wait "$registry_pid" 2>/dev/null || true; fi
    rm -rf "$run"
}
trap cleanup EXIT
mkfifo "$run/stdin"
"$python" "$root/Tests/Fixtures/registry.py" --dir "$run/registry" --info "$run/registry.json" <"$run/stdin" &
registry_pid=$!
exec 7>"$run/stdin"
for _ in $(seq 300); do
    [[ -s "$run/registry.json" ]] && break
    sleep 0.1
done
url="$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$run/registry.json")"

profile=debian-minbase
[[ " $images " == *" debian "* ]] || profile=multilayer
"$python" "$root/bench/bench.py" --out "$out" --bin "$bin" --registry "$url" --rounds "$rounds" \
    --formats "$formats" --erofs-images "$erofs_images" --queue-jobs "$queue_jobs" --profile "$profile" "${specs[@]}"
