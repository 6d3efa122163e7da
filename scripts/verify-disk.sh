#!/usr/bin/env bash
# verify-disk.sh: boot a disk produced by image-worker under a real Linux kernel in QEMU (TCG)
# and run a check inside the image's own filesystem. See docs/boot.md.
#
# Usage: verify-disk.sh FILE --format ext4|erofs|cpio|erofs-layers [--expect-marker TEXT]
#            [--marker-file PATH] [--owner-path PATH] [--expect-owner UID]
#            [--kernel PATH] [--timeout S] [--memory MB] [--print-tree]
#            [--verity-root-hash HEX --verity-salt HEX --verity-hash-offset N]
#
# Exit status: 0 markers found; 1 boot check failed or timed out; 64 usage; 69 qemu, kernel,
# modules or busybox-static missing.
set -euo pipefail

readonly PROG=verify-disk
SCRIPT_PATH=$(readlink -f "${BASH_SOURCE[0]}")
readonly SCRIPT_PATH

usage() {
    cat >&2 <<'EOF'
usage: verify-disk.sh FILE --format ext4|erofs|cpio|erofs-layers [options]
  --format F           ext4 or erofs (FILE is attached as /dev/vda, read-only), cpio
                       (FILE is the initramfs; a /verify-init is appended to it) or
                       erofs-layers (FILE is the JSON list of layer disks: each is attached,
                       base first as /dev/vda, mapped through dm-verity with its own root
                       hash when it has one, mounted, and the mounts stacked with overlayfs
                       as the root)
  --expect-marker T    fail unless T appears in the marker block (e.g. the fixture's text)
  --marker-file P      file inside the image printed as "release:" lines
                       (default /etc/fixture-release; a missing file is reported, not fatal)
  --owner-path P       path inside the image whose owner is printed as "owner: UID:GID P"
  --expect-owner U     fail unless the owner uid of --owner-path is U
  --kernel PATH        kernel image (default: newest /boot/vmlinuz-*; modules come from
                       /lib/modules/VERSION, VERSION taken from the vmlinuz-VERSION name)
  --timeout S          wall-clock bound for the boot in seconds (default 60)
  --memory MB          guest memory (default 256; raised for large cpio files)
  --print-tree         print every entry of the booted root between TREE-BEGIN and TREE-END
                       (busybox find + stat: type, mode, uid, gid, size of files, md5 of
                       regular files, name and symlink target), for comparing with a tree
  --verity-root-hash H, --verity-salt S, --verity-hash-offset N
                       ext4, erofs: map /dev/vda through dm-verity (dmsetup in the helper
                       initramfs, the tree in the same file at byte N) and mount the mapped
                       device instead; a block that does not match the tree fails the boot
environment:
  IMAGE_WORKER_BIN     image-worker executable used to build the helper initramfs with
                       `export-tree DIR --format cpio -o FILE` (default: image-worker on PATH)
  VERIFY_DISK_CACHE    cache directory for the helper initramfs
                       (default ${XDG_CACHE_HOME:-$HOME/.cache}/image-worker/verify-disk)
exit status: 0 passed; 1 boot check failed or timed out; 64 usage; 69 tools missing
EOF
}

die_usage() { echo "$PROG: $*" >&2; usage; exit 64; }
die_missing() { echo "$PROG: $*" >&2; exit 69; }
fail() { echo "boot check failed: $*" >&2; exit 1; }

# MARK: - Arguments

file="" format="" expect_marker="" marker_file=/etc/fixture-release owner_path="" expect_owner=""
kernel="${VERIFY_KERNEL:-}" timeout_s=60 memory_mb="" print_tree=""
verity_root="" verity_salt="" verity_offset=""
while [ $# -gt 0 ]; do
    case "$1" in
        --format) format="${2:-}"; shift 2 ;;
        --expect-marker) expect_marker="${2:-}"; shift 2 ;;
        --marker-file) marker_file="${2:-}"; shift 2 ;;
        --owner-path) owner_path="${2:-}"; shift 2 ;;
        --expect-owner) expect_owner="${2:-}"; shift 2 ;;
        --kernel) kernel="${2:-}"; shift 2 ;;
        --timeout) timeout_s="${2:-}"; shift 2 ;;
        --memory) memory_mb="${2:-}"; shift 2 ;;
        --print-tree) print_tree=1; shift ;;
        --verity-root-hash) verity_root="${2:-}"; shift 2 ;;
        --verity-salt) verity_salt="${2:-}"; shift 2 ;;
        --verity-hash-offset) verity_offset="${2:-}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) die_usage "unknown option $1" ;;
        *) [ -z "$file" ] || die_usage "more than one FILE given"; file="$1"; shift ;;
    esac
done
[ -n "$file" ] || die_usage "no FILE given"
[ -f "$file" ] || die_usage "$file: not a regular file"
case "$format" in ext4|erofs|cpio|erofs-layers) ;; *) die_usage "--format must be ext4, erofs, cpio or erofs-layers" ;; esac
[ -z "$print_tree" ] || [ "$format" != cpio ] || die_usage "--print-tree applies to disks, not cpio"
[[ "$timeout_s" =~ ^[1-9][0-9]*$ ]] || die_usage "--timeout must be a positive number of seconds"
[ -z "$memory_mb" ] || [[ "$memory_mb" =~ ^[1-9][0-9]*$ ]] || die_usage "--memory must be a number of MiB"
[ -z "$expect_owner" ] || [[ "$expect_owner" =~ ^[0-9]+$ ]] || die_usage "--expect-owner must be a uid"
[ -z "$expect_owner" ] || [ -n "$owner_path" ] || die_usage "--expect-owner needs --owner-path"
if [ -n "$verity_root$verity_salt$verity_offset" ]; then
    [ "$format" = ext4 ] || [ "$format" = erofs ] \
        || die_usage "--verity-* applies to ext4 and erofs (erofs-layers lists each layer's own)"
    [[ "$verity_root" =~ ^[0-9a-f]{64}$ ]] || die_usage "--verity-root-hash must be 64 lowercase hex digits"
    [[ "$verity_salt" =~ ^([0-9a-f][0-9a-f]){1,256}$ ]] || die_usage "--verity-salt must be lowercase hex"
    [[ "$verity_offset" =~ ^[1-9][0-9]*$ ]] && [ $((verity_offset % 4096)) -eq 0 ] \
        || die_usage "--verity-hash-offset must be a positive multiple of 4096"
fi
# Paths travel on the kernel command line (ext4/erofs) and into a shell script (cpio).
for p in "$marker_file" "$owner_path"; do
    [[ "$p" =~ ^[A-Za-z0-9_./@+-]*$ ]] || die_usage "$p: paths may hold only [A-Za-z0-9_./@+-]"
done

# MARK: - Prerequisites

command -v qemu-system-x86_64 >/dev/null || die_missing "qemu-system-x86_64 not found; apt-get install qemu-system-x86"
if [ -z "$kernel" ]; then
    kernel=$(find /boot -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)
    [ -n "$kernel" ] || die_missing "no kernel under /boot; apt-get install linux-image-cloud-amd64 or pass --kernel"
fi
[ -r "$kernel" ] || die_missing "$kernel: kernel not readable"
kver=$(basename "$kernel"); kver=${kver#vmlinuz-}
busybox=$(command -v busybox || true)

# Builds a newc cpio of directory $1 into file $2 with image-worker's exporter when it has one.
builder_note=""
if [ -n "${IMAGE_WORKER_BIN:-}" ]; then
    iw_bin="$IMAGE_WORKER_BIN"
else
    iw_bin=$(command -v image-worker || true)
fi
# The subcommand must be listed in the root help: ArgumentParser answers `--help` with status 0
# even after an unknown subcommand name.
if [ -n "$iw_bin" ] && "$iw_bin" --help 2>/dev/null | grep -qE '^[[:space:]]+export-tree([[:space:]]|$)'; then
    builder="image-worker"
else
    builder="cpio-fallback"
    builder_note="${iw_bin:-image-worker} has no export-tree command; built the helper cpio with find | cpio -H newc"
fi
build_cpio() {
    if [ "$builder" = image-worker ]; then
        "$iw_bin" export-tree "$1" --format cpio -o "$2" >/dev/null
    else
        (cd "$1" && find . -mindepth 1 -print0 | LC_ALL=C sort -z \
            | cpio --null --quiet -o -H newc -R 0:0) > "$2"
    fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/verify-disk.XXXXXX")
trap 'rm -rf "$work"' EXIT

# MARK: - In-image check

# The check the image's own /bin/sh runs; it reads verify_file and verify_owner.
check_snippet() {
    cat <<'EOF'
echo MARKER-BEGIN
if [ -r "$verify_file" ]; then
    while IFS= read -r line || [ -n "$line" ]; do echo "release: $line"; done < "$verify_file"
else
    echo "release: (no readable $verify_file in the image)"
fi
# No redirection to /dev/null here: a read-only image may have no /dev at all.
echo "uid: $(id -u 2>&1)"
if [ -n "$verify_owner" ]; then
    owner=$(stat -c '%u:%g' "$verify_owner" 2>&1)
    case "$owner" in
        *[!0-9:]*|"") owner=$(ls -lnd "$verify_owner" 2>&1 | { read -r _ _ u g _; echo "$u:$g"; }) ;;
    esac
    case "$owner" in
        [0-9]*:[0-9]*) ;;
        *) owner=missing ;;
    esac
    echo "owner: $owner $verify_owner"
fi
echo MARKER-END
EOF
}

# MARK: - Helper initramfs (ext4, erofs)

# Modules the helper initramfs loads, dependencies first; built-in ones are skipped. The
# optional ones (dm-verity for --verity-*, overlay for erofs-layers) are left out when this
# kernel has none.
readonly WANTED_MODULES="virtio_pci virtio_blk crc32c erofs ext4"
readonly OPTIONAL_MODULES="dm-verity overlay"

init_script() {
    cat <<'EOF'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
stop() { poweroff -f; sleep 5; exit 1; }
fail() { echo "VERIFY-FAIL: $*"; stop; }
# The kernel's own reason for refusing the disk, e.g. "EXT4-fs (vda): bad geometry: ...".
kernel_reason() { dmesg | grep -E '\(vda\)|\(device vda\)|\(dm-0\)|I/O error|device-mapper: verity' | tail -n 4 | sed 's/^/VERIFY-DMESG: /'; }
while read -r ko; do
    err=$(insmod "/lib/modules/$ko" 2>&1) || echo "VERIFY-WARN: insmod $ko: $err"
done < /modules.order
tries=0
while [ ! -b /dev/vda ]; do
    tries=$((tries + 1))
    [ "$tries" -le 100 ] || fail "no /dev/vda after 10 s: virtio_blk did not attach the disk"
    sleep 0.1
done
root=/dev/vda
mkdir -p /newroot
if [ "$verify_format" = erofs-layers ]; then
    # verify_layers=N, verify_layerI=ROOT,SALT,OFFSET (empty: no tree) for I in 0..N-1; layer I
    # is the I-th virtio disk. Stacked with overlayfs, the last layer uppermost.
    set -- a b c d e f g h i j k l m n o p q r s t u v w x y z
    i=0 lowers=""
    while [ "$i" -lt "$verify_layers" ]; do
        dev=/dev/vd$1
        shift
        tries=0
        while [ ! -b "$dev" ]; do
            tries=$((tries + 1))
            [ "$tries" -le 100 ] || fail "no $dev for layer $i after 10 s"
            sleep 0.1
        done
        eval "spec=\$verify_layer$i"
        source=$dev
        if [ -n "$spec" ]; then
            [ -x /bin/dmsetup ] || fail "no dmsetup in the helper initramfs (host without dmsetup or dm-verity)"
            hash=${spec%%,*} rest=${spec#*,}
            salt=${rest%%,*} offset=${rest#*,}
            blocks=$((offset / 4096))
            table="0 $((offset / 512)) verity 1 $dev $dev 4096 4096 $blocks $((blocks + 1)) sha256 $hash $salt"
            err=$(dmsetup create "layer$i" --readonly --noudevsync --table "$table" 2>&1) \
                || { kernel_reason; fail "dm-verity refused layer $i ($dev): $err"; }
            tries=0
            while [ ! -b "/dev/dm-$i" ]; do
                tries=$((tries + 1))
                [ "$tries" -le 50 ] || fail "no /dev/dm-$i after dmsetup create"
                sleep 0.1
            done
            source=/dev/dm-$i
            echo "VERIFY-VERITY: layer $i ($dev) mapped through dm-verity as $source"
        fi
        mkdir -p "/lower/$i"
        err=$(mount -t erofs -o ro "$source" "/lower/$i" 2>&1) \
            || { kernel_reason; fail "kernel could not mount layer $i ($source) as erofs: $err"; }
        lowers="/lower/$i${lowers:+:$lowers}"
        i=$((i + 1))
    done
    if [ "$verify_layers" -eq 1 ]; then
        err=$(mount -o bind,ro /lower/0 /newroot 2>&1) || fail "could not bind the one layer: $err"
    else
        err=$(mount -t overlay overlay -o "ro,lowerdir=$lowers" /newroot 2>&1) \
            || { dmesg | grep -i overlay | tail -n 4 | sed 's/^/VERIFY-DMESG: /'; fail "overlayfs refused the layers: $err"; }
    fi
    echo "VERIFY-OVERLAY: $verify_layers layer(s) stacked, lowerdir=$lowers"
elif [ -n "$verify_verity_root" ]; then
    [ -x /bin/dmsetup ] || fail "no dmsetup in the helper initramfs (host without dmsetup or dm-verity)"
    blocks=$((verify_verity_offset / 4096))
    table="0 $((verify_verity_offset / 512)) verity 1 /dev/vda /dev/vda 4096 4096 $blocks $((blocks + 1)) sha256 $verify_verity_root $verify_verity_salt"
    err=$(dmsetup create vroot --readonly --noudevsync --table "$table" 2>&1) \
        || { kernel_reason; fail "dm-verity refused /dev/vda: $err"; }
    tries=0
    while [ ! -b /dev/dm-0 ]; do
        tries=$((tries + 1))
        [ "$tries" -le 50 ] || fail "no /dev/dm-0 after dmsetup create"
        sleep 0.1
    done
    root=/dev/dm-0
    echo "VERIFY-VERITY: /dev/vda mapped through dm-verity as $root"
fi
if [ "$verify_format" != erofs-layers ]; then
    err=$(mount -t "$verify_format" -o ro "$root" /newroot 2>&1) \
        || { kernel_reason; fail "kernel could not mount $root as $verify_format: $err"; }
fi
if [ -n "$verify_tree" ]; then
    # With the helper's own busybox, before /dev is bound in: one line per entry.
    echo TREE-BEGIN
    (cd /newroot && find . -xdev | sort | while IFS= read -r p; do
        line=$(stat -c '%F|%a|%u|%g' "$p")
        case "$line" in
            "regular file"*|"regular empty file"*) line="$line|$(stat -c %s "$p")|$(md5sum < "$p" | cut -c1-32)" ;;
        esac
        echo "TREE: $line|$(stat -c %N "$p")"
    done)
    echo TREE-END
fi
# Tested through chroot: /bin/sh is often an absolute symlink, meaningless outside the image.
err=$(chroot /newroot /bin/sh -c : 2>&1) || fail "the image's /bin/sh does not run: $err"
[ ! -d /newroot/dev ] || mount -o bind /dev /newroot/dev
chroot /newroot /bin/sh -c "$(cat /check.sh)" || echo "VERIFY-WARN: in-image check exited $?"
stop
EOF
}

build_helper_initramfs() {
    local out=$1 tree="$work/initramfs" ko seen="" m line
    [ -n "$busybox" ] || die_missing "busybox not found; apt-get install busybox-static"
    ! ldd "$busybox" >/dev/null 2>&1 || die_missing "$busybox is not static; apt-get install busybox-static"
    [ -d "/lib/modules/$kver" ] || die_missing "/lib/modules/$kver missing for kernel $kernel"
    mkdir -p "$tree"/{bin,dev,proc,sys,newroot,lib/modules}
    cp "$busybox" "$tree/bin/busybox"
    for a in sh mount insmod mkdir sleep cat chroot dmesg grep tail sed poweroff stat ls id find sort md5sum cut; do
        ln -s busybox "$tree/bin/$a"
    done
    : > "$tree/modules.order"
    for m in $WANTED_MODULES $OPTIONAL_MODULES; do
        if ! modprobe --show-depends -S "$kver" "$m" >"$work/deps" 2>&1; then
            case " $OPTIONAL_MODULES " in *" $m "*) continue ;; esac
            die_missing "modprobe cannot resolve $m for $kver: $(tr '\n' ' ' < "$work/deps")"
        fi
        while read -r kind ko _; do
            [ "$kind" = insmod ] || continue
            case " $seen " in *" $ko "*) continue ;; esac
            seen="$seen $ko"
            line=$(basename "$ko"); line=${line%.xz}; line=${line%.zst}; line=${line%.gz}
            case "$ko" in
                *.xz) xz -dc "$ko" > "$tree/lib/modules/$line" ;;
                *.zst) zstd -qdc "$ko" > "$tree/lib/modules/$line" ;;
                *.gz) gzip -dc "$ko" > "$tree/lib/modules/$line" ;;
                *) cp "$ko" "$tree/lib/modules/$line" ;;
            esac
            echo "$line" >> "$tree/modules.order"
        done < "$work/deps"
    done
    # dmsetup and the libraries it links, at their own paths, for --verity-*.
    local dmsetup lib
    dmsetup=$(command -v dmsetup || true)
    if [ -n "$dmsetup" ]; then
        cp -L "$dmsetup" "$tree/bin/dmsetup"
        for lib in $(ldd "$dmsetup" | grep -oE '/[^ ]+'); do
            mkdir -p "$tree$(dirname "$lib")"
            cp -L "$lib" "$tree$lib"
        done
    fi
    init_script > "$tree/init"
    check_snippet > "$tree/check.sh"
    chmod 0755 "$tree/init"
    build_cpio "$tree" "$out.tmp.$$"
    mv -f "$out.tmp.$$" "$out"
}

# MARK: - Boot

console="$work/console.log"
# no_timer_check: under TCG on a loaded host the IO-APIC timer check can fail and panic the guest.
append="console=ttyS0 panic=-1 loglevel=4 no_timer_check"
if [ "$format" = cpio ]; then
    # The image's own root is the initramfs; a second archive adds only /verify-init.
    mkdir -p "$work/verify"
    {
        echo '#!/bin/sh'
        echo "verify_file='$marker_file'"
        echo "verify_owner='$owner_path'"
        check_snippet
        echo 'poweroff -f 2>/dev/null'
        echo 'exit 0'
    } > "$work/verify/verify-init"
    chmod 0755 "$work/verify/verify-init"
    build_cpio "$work/verify" "$work/verify.cpio"
    # The kernel looks for the next archive only at a 4-byte-aligned offset, which a compressed
    # archive's end need not be: pad with zeros (which it skips) to a 512-byte boundary.
    size=$(stat -c %s "$file")
    { cat "$file"; head -c $(( (512 - size % 512) % 512 )) /dev/zero; cat "$work/verify.cpio"; } \
        > "$work/initrd.cpio"
    initrd="$work/initrd.cpio"
    disk_args=()
    append="$append rdinit=/verify-init"
    if [ -z "$memory_mb" ]; then
        size_mb=$(( $(stat -c %s "$file") / 1048576 ))
        memory_mb=$(( size_mb * 3 + 192 ))
        [ "$memory_mb" -ge 256 ] || memory_mb=256
    fi
else
    cache_root="${VERIFY_DISK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/image-worker/verify-disk}"
    key=$( { cat "$SCRIPT_PATH"; echo "$builder"; sha256sum < "${busybox:-/dev/null}"; sha256sum < "$(command -v dmsetup || echo /dev/null)"; } \
        | sha256sum | cut -c1-16)
    initrd="$cache_root/$kver/initramfs-$key.cpio"
    if [ ! -s "$initrd" ]; then
        mkdir -p "$(dirname "$initrd")"
        build_helper_initramfs "$initrd"
        # Archives built by an older script, busybox or builder are never used again.
        find "$(dirname "$initrd")" -maxdepth 1 -name 'initramfs-*.cpio' ! -path "$initrd" -delete
    fi
    if [ "$format" = erofs-layers ]; then
        # One line per layer, base first: PATH ROOT,SALT,OFFSET (or PATH alone without a tree).
        python3 - "$file" > "$work/layers" <<'PY' || die_usage "$file: not an erofs-layers list"
import json, sys
for layer in json.load(open(sys.argv[1])):
    spec = ",".join([layer["verity_root_hash"], layer["verity_salt"], str(layer["verity_hash_offset"])]) \
        if layer.get("verity_root_hash") else ""
    print(layer["path"], spec)
PY
        count=$(wc -l < "$work/layers")
        [ "$count" -ge 1 ] && [ "$count" -le 26 ] || die_usage "$file: $count layers (1 to 26 can be attached)"
        disk_args=()
        append="$append rdinit=/init verify_format=$format verify_file=$marker_file verify_layers=$count"
        index=0
        while read -r path spec; do
            [ -f "$path" ] || die_usage "$path (layer $index of $file): not a regular file"
            disk_args+=(-drive "file=$path,if=virtio,format=raw,readonly=on")
            [ -z "$spec" ] || append="$append verify_layer$index=$spec"
            index=$((index + 1))
        done < "$work/layers"
    else
        disk_args=(-drive "file=$file,if=virtio,format=raw,readonly=on")
        append="$append rdinit=/init verify_format=$format verify_file=$marker_file"
    fi
    [ -z "$print_tree" ] || append="$append verify_tree=1"
    [ -z "$owner_path" ] || append="$append verify_owner=$owner_path"
    [ -z "$verity_root" ] \
        || append="$append verify_verity_root=$verity_root verify_verity_salt=$verity_salt verify_verity_offset=$verity_offset"
fi

# SIGKILL, not SIGTERM: a caller may hand us a blocked SIGTERM (seen under swift test), and QEMU
# has nothing to flush; the console file is written as the guest prints.
start=$(date +%s.%N)
set +e
timeout --signal=KILL "$timeout_s" qemu-system-x86_64 \
    -accel tcg -cpu max -m "${memory_mb:-256}" -smp 1 -nodefaults -display none -no-reboot \
    -serial "file:$console" -monitor none \
    -kernel "$kernel" -initrd "$initrd" -append "$append" \
    "${disk_args[@]}" </dev/null >"$work/qemu.out" 2>&1
qemu_rc=$?
set -e
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
tr -d '\r' < "$console" > "$console.txt" 2>/dev/null || : > "$console.txt"

# MARK: - Verdict

console_tail() { tail -n 12 "$console.txt" | sed 's/^/  console: /' >&2; }
[ -z "$builder_note" ] || echo "$PROG: note: $builder_note" >&2
if [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
    console_tail
    fail "$file ($format): timed out after $timeout_s s without MARKER-END"
fi
if ! grep -q '^MARKER-END$' "$console.txt"; then
    reason=$(grep -m1 '^VERIFY-FAIL: ' "$console.txt" | sed 's/^VERIFY-FAIL: //' || true)
    detail=$(grep '^VERIFY-DMESG: ' "$console.txt" | sed 's/^VERIFY-DMESG: \[ *[0-9.]*\] //' \
        | paste -sd ';' - || true)
    if [ -z "$reason" ]; then
        reason=$(grep -m1 -E 'Initramfs unpacking failed|Failed to execute|Kernel panic' "$console.txt" \
            | sed 's/^\[ *[0-9.]*\] //' || true)
        case "$format:$reason" in
            cpio:*"Unable to mount root fs"*)
                reason="the kernel found no /verify-init after unpacking: $file is not a complete newc cpio (truncated?); $reason" ;;
            cpio:*"Failed to execute /verify-init"*)
                reason="the image's /bin/sh could not run /verify-init (missing /bin/sh or its libraries?); $reason" ;;
        esac
        reason=${reason:-"guest stopped without printing MARKER-END (qemu exit $qemu_rc: $(tail -n 1 "$work/qemu.out"))"}
    fi
    console_tail
    fail "$file ($format): ${reason}${detail:+ ($detail)}"
fi

if [ -n "$verity_root" ] && ! grep -q '^VERIFY-VERITY: ' "$console.txt"; then
    fail "$file ($format): booted, but the root was not mounted through dm-verity"
fi
if [ "$format" = erofs-layers ]; then
    grep -q '^VERIFY-OVERLAY: ' "$console.txt" || fail "$file ($format): booted, but the layers were not stacked"
    wanted=$(awk 'NF > 1' "$work/layers" | wc -l)
    mapped=$(grep -c '^VERIFY-VERITY: layer ' "$console.txt" || true)
    [ "$mapped" -eq "$wanted" ] \
        || fail "$file ($format): $mapped of $wanted layer disks with a tree were mounted through dm-verity"
fi
if [ -n "$print_tree" ]; then
    grep -q '^TREE-END$' "$console.txt" || fail "$file ($format): the tree listing did not finish"
    sed -n '/^TREE-BEGIN$/,/^TREE-END$/p' "$console.txt"
fi
markers=$(sed -n '/^MARKER-BEGIN$/,/^MARKER-END$/p' "$console.txt")
echo "$markers"
if [ -n "$expect_marker" ] && ! grep -qF -- "$expect_marker" <<<"$markers"; then
    fail "$file ($format): booted, but marker '$expect_marker' is not in the marker block"
fi
if [ -n "$expect_owner" ]; then
    got=$(sed -n 's/^owner: \([0-9]*\):.*/\1/p' <<<"$markers")
    [ "$got" = "$expect_owner" ] \
        || fail "$file ($format): booted, but $owner_path is owned by uid '${got:-missing}', expected $expect_owner"
fi
echo "$PROG: $file ($format)${verity_root:+ through dm-verity} booted and passed in $elapsed s" >&2
