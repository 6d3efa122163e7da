#!/bin/bash
# Times the native ext4 writer alone (bench/EXT4Bench): 200,000 empty files in one directory
# and one 500 MiB file, each checked with e2fsck -fn. The 500 MiB case is put next to the
# floor of writing the same amount to a file (dd from /dev/zero, no fsync).
# Env: EXT4_BENCH_ENTRIES (200000), EXT4_BENCH_MIB (500), EXT4_BENCH_DIR (bench/out/ext4-writer).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
entries="${EXT4_BENCH_ENTRIES:-200000}"
mib="${EXT4_BENCH_MIB:-500}"
dir="${EXT4_BENCH_DIR:-$root/bench/out/ext4-writer}"
mkdir -p "$dir"
(cd "$root" && swift build -c release --product ext4-writer-bench)
bin="$root/.build/release/ext4-writer-bench"

rm -f "$dir/entries.ext4" "$dir/file.ext4" "$dir/floor.bin"
"$bin" entries "$entries" "$dir/entries.ext4"
e2fsck -fn "$dir/entries.ext4" >/dev/null && echo "e2fsck -fn entries.ext4: clean"
"$bin" file "$mib" "$dir/file.ext4"
e2fsck -fn "$dir/file.ext4" >/dev/null && echo "e2fsck -fn file.ext4: clean"
start=$(date +%s%N)
dd if=/dev/zero of="$dir/floor.bin" bs=1M count="$mib" status=none
end=$(date +%s%N)
echo "{\"mode\": \"floor-dd\", \"count\": $mib, \"total_ms\": $(( (end - start) / 1000000 ))}"
rm -f "$dir/entries.ext4" "$dir/file.ext4" "$dir/floor.bin"
