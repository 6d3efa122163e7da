#!/bin/bash
# Writes one layer archive made by another tar program, wrapped as an OCI layout, and the
# tree GNU tar extracts from that archive (the oracle): other people's tar archives, as the
# registry serves them, beside the Python-made fixtures.
#
# Usage: make-foreign.sh OUT NAME      (as root: device nodes, owners, file capabilities)
#   OUT/layout         OCI layout tagged latest, the archive as its one gzip layer
#   OUT/expected.json  scantree.py of `tar -xpf` (GNU tar, xattrs, numeric owners) of it
# NAME is one of: gnu-posix gnu-gnu gnu-oldgnu gnu-ustar gnu-v7 bsd-default bsd-pax
#   bsd-gnutar bsd-ustar busybox
# The tree: names with spaces and a non-UTF-8 byte, a 200-byte directory and file name,
# 41 levels of directories, short and 211-byte symlinks, a hardlink group of three (setuid),
# a sparse file, a 3 MiB file, an empty file, a FIFO, character and block devices, owners
# 1000:1000, a sticky directory, a file capability and user xattrs, a 1960 mtime. A format
# that cannot hold an entry drops it (ustar, v7: long names, old times); the oracle is what
# the archive holds.
set -euo pipefail
out="$1"; name="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="/usr/bin/python3"
[[ -x "$python" ]] || python="$(command -v python3)"
mkdir -p "$out"
work="$(mktemp -d "$out/.work.XXXXXX")"
log="$work/log"
# The tools' warnings (an old time stamp, a name not in UTF-8) go to a log, shown on failure.
trap 'status=$?; [[ $status -eq 0 ]] || cat "$log" >&3; rm -rf "$work"' EXIT
exec 3>&2 2>> "$log"
src="$work/src"
mkdir -p "$src"
(
    cd "$src"
    long="$(printf 'n%.0s' {1..200})"
    deep="$(printf 'd%.0s/' {1..40})"
    mkdir -p "dir with space/sub" "deep/$deep" "$long"
    echo hello > "dir with space/file"
    echo long > "$long/$(printf 'm%.0s' {1..200})"
    echo deep > "deep/${deep}f"
    ln -s "$(printf 'target%.0s/' {1..30})x" longlink
    ln -s file shortlink
    echo a > h1
    ln h1 h2
    ln h1 "$long/h3"
    truncate -s 8M sparse
    printf 'data' | dd of=sparse bs=1 seek=4194304 conv=notrunc status=none
    printf 'tail' | dd of=sparse bs=1 seek=7340032 conv=notrunc status=none
    head -c 3145728 /dev/urandom > big
    touch empty "$(printf 'caf\xe9')"
    mkfifo fifo
    mknod cdev c 1 3
    mknod bdev b 7 0
    echo cap > capfile
    setcap cap_net_raw+ep capfile
    setfattr -n user.big -v "$(head -c 3000 /dev/zero | tr '\0' v)" big
    setfattr -n user.small -v s h1
    touch -d '1960-01-01 00:00:00.123456789' old
    chmod 4755 h1
    chown 1000:1000 "dir with space/file"
    chmod 1777 "dir with space"
)
tar="$work/layer.tar"
gnu=(tar -C "$src" --numeric-owner)
bsd=(bsdtar -C "$src" --numeric-owner)
# GNU tar exits 2 when a format cannot hold an entry; it writes the rest.
lossy() { "$@" || [[ $? -eq 2 ]]; }
case "$name" in
    gnu-posix) "${gnu[@]}" --format=posix --sparse --xattrs --xattrs-include='*' -cf "$tar" . ;;
    gnu-gnu) "${gnu[@]}" --format=gnu --sparse -cf "$tar" . ;;
    gnu-oldgnu) "${gnu[@]}" --format=oldgnu --sparse -cf "$tar" . ;;
    gnu-ustar) lossy "${gnu[@]}" --format=ustar -cf "$tar" . ;;
    gnu-v7) lossy "${gnu[@]}" --format=v7 -cf "$tar" . ;;
    bsd-default) "${bsd[@]}" --xattrs --read-sparse -cf "$tar" . ;;
    bsd-pax) "${bsd[@]}" --xattrs --format pax -cf "$tar" . ;;
    bsd-gnutar) "${bsd[@]}" --format gnutar -cf "$tar" . ;;
    # bsdtar exits 1 when ustar cannot hold an entry; it writes the rest.
    bsd-ustar) "${bsd[@]}" --format ustar -cf "$tar" . || true ;;
    busybox) (cd "$src" && busybox tar -cf "$tar" .) ;;
    *) echo "make-foreign: unknown archive $name" >&2; exit 64 ;;
esac
[[ -s "$tar" ]] || { echo "make-foreign: $name wrote no archive" >&2; exit 1; }
gzip -1 -n -c "$tar" > "$work/layer.tar.gz"
rm -rf "$out/layout"
"$python" "$here/../hostile/make-layout.py" "$out/layout" "$work/layer.tar.gz" > /dev/null
mkdir "$work/extracted"
tar -C "$work/extracted" -xpf "$tar" --numeric-owner --xattrs --xattrs-include='*'
"$python" "$here/../scantree.py" "$work/extracted" > "$out/expected.json"
