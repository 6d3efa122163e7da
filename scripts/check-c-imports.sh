#!/usr/bin/env bash
# C interop stays in its shim's one Swift file (STYLE.md §5): fails when any other file in
# Sources/ imports a C shim module.
set -euo pipefail
cd "$(dirname "$0")/.."
allowed=(
    "Sources/ImageStore/Registry/CurlHandle.swift:CCurl"
    "Sources/ImageStore/Registry/CurlHandle+Callbacks.swift:CCurl"
    "Sources/ImageStore/Store/SQLiteConnection.swift:CSQLite"
    "Sources/ImageStore/Store/PostgresConnection.swift:CPostgres"
    "Sources/ImageStore/Layers/ArchiveReader.swift:CArchive"
    "Sources/ImageStore/Layers/Inflate/GzipInflater.swift:CIsal"
    "Sources/ImageStore/Layers/Inflate/ZstdInflater.swift:CZstd"
    "Sources/ImageStore/Support/SHA256.swift:CCrypto"
    "Sources/ImageStore/Disk/DirectoryModelBuilder.swift:CXattr"
    "Sources/ImageStore/Disk/EXT4/EXT4BlockFile.swift:CFalloc"
    "Sources/ImageStore/Disk/SpoolFile.swift:CFalloc"
    "Sources/ImageStore/Support/WriteBehind.swift:CFalloc"
)
status=0
while IFS=: read -r file _ module; do
    module=${module#import }
    if [[ ! " ${allowed[*]} " == *" $file:$module "* ]]; then
        echo "check-c-imports: $file imports $module; only its shim file may (STYLE.md §5)" >&2
        status=1
    fi
done < <(grep -rn --include='*.swift' -E '^import (CSQLite|CPostgres|CCurl|CArchive|CCrypto|CIsal|CZstd|CXattr|CFalloc)$' Sources)
[ $status -eq 0 ] && echo "check-c-imports: ok"
exit $status
