#!/usr/bin/env bash
# Installs the Debian packages image-worker needs to build, run and test.
# Runs apt-get only when something is missing, so a second run costs nothing.
set -euo pipefail

packages=(
    # build: the C libraries behind the shim targets
    pkg-config libsqlite3-dev libpq-dev libcurl4-openssl-dev libarchive-dev libssl-dev libisal-dev libzstd-dev liblz4-dev
    # run: mkfs.ext4 for empty volumes, cpio compressors, the CLI the schema contract is read with
    sqlite3 postgresql-client-15 e2fsprogs zstd gzip
    # tests: a throwaway PostgreSQL cluster (initdb, pg_ctl) for the second backend
    postgresql-15
    # tests: real registry, fixture builders, disk read-back (fsck.erofs, umoci as the oracle), boot check
    erofs-utils docker-registry apache2-utils python3 python3-cryptography busybox-static umoci skopeo
    cpio libarchive-tools attr libcap2-bin tar curl qemu-system-x86 linux-image-cloud-amd64 kmod prometheus
    # tests: veritysetup checks the dm-verity trees; dmsetup maps them in the boot check's guest
    cryptsetup-bin dmsetup
    # benchmarks (make bench)
    debootstrap strace time isal pigz python3-psycopg2
)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
