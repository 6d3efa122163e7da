#!/usr/bin/env bash
# The main job, offline: fixture images in a local registry → rows inserted with plain SQL →
# two image-worker processes → ready ext4 / erofs / cpio disk files.
#
#   make demo                 # builds image-worker and the fixtures first, then runs this
#   scripts/demo.sh           # uses .build/debug/image-worker (or $IMAGE_WORKER_BIN)
#
# Output goes to ./demo-data (git-ignored; $DEMO_DIR overrides), which is emptied first.
# Needs: docker-registry, python3 + python3-cryptography, sqlite3, e2fsprogs, erofs-utils
# (scripts/install-deps.sh installs them). Run as root: layers carry owners and device nodes.
#
# With internet access the same works against Docker Hub; only the names change:
#   sqlite3 demo-data/image-worker.db "INSERT INTO images(name) VALUES ('alpine')"
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
bin=${IMAGE_WORKER_BIN:-$repo/.build/debug/image-worker}
demo=${DEMO_DIR:-$repo/demo-data}
db=$demo/image-worker.db
fixtures=$repo/Tests/Fixtures

[ -x "$bin" ] || { echo "demo: $bin missing; run 'swift build' (or make demo)" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }

step "fixture images (Tests/Fixtures/make-fixtures.sh)"
"$fixtures/make-fixtures.sh"

step "local registry (docker-registry on 127.0.0.1, Tests/Fixtures/registry.py)"
rm -rf "$demo"
mkdir -p "$demo"
registry_dir=$(mktemp -d /tmp/image-worker-demo-registry.XXXXXX)
mkfifo "$registry_dir.stdin"
# registry.py stops the registry when its stdin reaches EOF: fd 3 holds the FIFO open.
python3 "$fixtures/registry.py" --dir "$registry_dir" --info "$registry_dir.json" <"$registry_dir.stdin" \
    >"$demo/registry.log" 2>&1 &
registry_pid=$!
exec 3>"$registry_dir.stdin"
stop_registry() {
    exec 3>&- || true
    wait "$registry_pid" 2>/dev/null || true
    rm -f "$registry_dir.stdin" "$registry_dir.json"
}
trap stop_registry EXIT
for _ in $(seq 1 300); do
    [ -s "$registry_dir.json" ] && break
    kill -0 "$registry_pid" 2>/dev/null || { cat "$demo/registry.log" >&2; exit 1; }
    sleep 0.1
done
[ -s "$registry_dir.json" ] || { echo "demo: registry did not start" >&2; exit 1; }
registry_url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$registry_dir.json")
registry=${registry_url#http://}
echo "registry at $registry_url"

step "push fixtures (Tests/Fixtures/push.py)"
for image in multilayer multilayer-zstd multilayer-docker multiarch; do
    digest=$(python3 "$fixtures/push.py" --url "$registry_url" "$fixtures/out/$image" "demo/$image" v1)
    echo "$registry/demo/$image:v1 $digest"
done
multilayer_digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifestDigest"])' \
    "$fixtures/out/multilayer/expected.json")

step "enqueue with plain SQL (sqlite3 $db)"
"$bin" migrate --data-dir "$demo" >/dev/null
sqlite3 "$db" <<SQL
INSERT INTO images(name) VALUES ('$registry/demo/multilayer:v1');
INSERT INTO images(name) VALUES ('$registry/demo/multilayer@$multilayer_digest');
INSERT INTO images(name, format) VALUES ('$registry/demo/multilayer:v1', 'erofs');
INSERT INTO images(name, format) VALUES ('$registry/demo/multiarch:v1', 'cpio');
INSERT INTO images(name) VALUES ('$registry/demo/multilayer-zstd:v1');
INSERT INTO images(name, format, priority) VALUES ('$registry/demo/multilayer-docker:v1', 'ext4', 10);
INSERT INTO images(name) VALUES ('$registry/demo/no-such-image:v1');
INSERT INTO images(name) VALUES ('Not A Valid Name');
SQL
sqlite3 -box "$db" 'SELECT id, name, format, status, queue_position FROM image_status'

step "two workers (image-worker worker --exit-when-idle), logs in $demo/worker-N.log"
start=$(date +%s%N)
pids=()
for n in 1 2; do
    "$bin" worker --data-dir "$demo" --worker-name "demo:$n" --exit-when-idle --poll-interval-ms 200 \
        2>"$demo/worker-$n.log" &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
end=$(date +%s%N)
[ "$status" -eq 0 ] || { echo "demo: a worker exited $status" >&2; tail -20 "$demo"/worker-*.log >&2; exit 1; }
elapsed=$(((end - start) / 1000000))
printf 'both workers idle after %d.%03d s\n' $((elapsed / 1000)) $((elapsed % 1000))

"$bin" usage --data-dir "$demo"
disks=$(sqlite3 "$db" "SELECT count(*) || ' disk files, converted ' || sum(conversions) || ' times' FROM artifacts WHERE state = 'ready'")
ready=$(sqlite3 "$db" "SELECT count(*) FROM images WHERE status = 'ready'")
failed=$(sqlite3 "$db" "SELECT count(*) FROM images WHERE status = 'failed'")
echo "$disks for $ready ready rows (one disk per manifest digest and format, shared by every name)"

step "image-worker list --data-dir $demo"
"$bin" list --data-dir "$demo"
echo
echo "demo: $ready ready, $failed failed (the two bad names fail on purpose); data in $demo"
echo "full view (every image_status column: digests, disk paths, entrypoint, cmd, env, user, ...):"
echo "  sqlite3 -line $db 'select * from image_status'"
[ "$ready" -eq 6 ] && [ "$failed" -eq 2 ]
