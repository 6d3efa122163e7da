-- image-worker schema: the public contract.
--
-- Other services enqueue with a plain INSERT and read status with the sqlite3 CLI:
--
--   INSERT INTO images(name) VALUES ('alpine:3.18');
--   INSERT INTO images(name, format, priority) VALUES ('localhost:5000/app@sha256:…', 'erofs', 10);
--   sqlite3 -box image-worker.db 'select * from image_status'
--
-- Every column except `name` has a default. Workers own every other column: do not write them
-- by hand except as README "Schema contract" shows (retry, delete).
-- Times are integer milliseconds since the Unix epoch (UTC). This file is the result of applying
-- every migration in Sources/Migrations in order; a test keeps the two equal.

-- One row per name somebody asked for. Two rows naming the same image (a tag and a digest, two
-- tags) share one artifact; each row keeps its own name. Every column has a typed CHECK, so a
-- hand-written INSERT with a wrong type or an out-of-range counter is refused with the name of
-- the constraint (which names the column) instead of stalling the queue later.
CREATE TABLE images (
    -- Enqueue order: a larger id was enqueued later. Never reused.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The reference exactly as the user typed it ('alpine', 'alpine:3.18', 'x@sha256:…').
    name TEXT NOT NULL CONSTRAINT name_is_text CHECK (typeof(name) = 'text'),
    -- Output disk format: 'ext4' (default), 'erofs', 'cpio' (newc initramfs) or 'erofs-layers'
    -- (one erofs disk per layer for overlayfs, listed in image_status.layers).
    format TEXT NOT NULL DEFAULT 'ext4' CHECK (format IN ('ext4', 'erofs', 'cpio', 'erofs-layers')),
    -- Larger runs first; ties go in enqueue order. An integer ('high' or 1.5 is refused).
    priority INTEGER NOT NULL DEFAULT 0 CONSTRAINT priority_is_integer CHECK (typeof(priority) = 'integer'),
    -- pending: waiting for a worker (or for next_attempt_at after a transient failure);
    -- pulling: claimed, resolving and downloading; converting: applying layers and writing the
    -- disk; ready: artifact complete; failed: gave up, `error` says why.
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'pulling', 'converting', 'ready', 'failed')),
    -- Normalized reference, set by the worker or `enqueue` ('docker.io/library/alpine:3.18').
    normalized_name TEXT CONSTRAINT normalized_name_is_text CHECK (typeof(normalized_name) IN ('text', 'null')),
    -- Digest the name resolved to: the index digest for a multi-platform image, else the
    -- manifest digest. Looking an image up by this digest works.
    digest TEXT CONSTRAINT digest_is_text CHECK (typeof(digest) IN ('text', 'null')),
    -- Digest of the platform manifest that was converted (equals `digest` for single-platform).
    manifest_digest TEXT CONSTRAINT manifest_digest_is_text CHECK (typeof(manifest_digest) IN ('text', 'null')),
    -- Platform converted, 'os/arch[/variant]'.
    platform TEXT CONSTRAINT platform_is_text CHECK (typeof(platform) IN ('text', 'null')),
    -- The shared disk file this row points at, once resolved (on the host that built it).
    artifact_id INTEGER REFERENCES artifacts (id) ON DELETE SET NULL
        CONSTRAINT artifact_id_is_integer CHECK (typeof(artifact_id) IN ('integer', 'null')),
    -- Claims so far (each claim counts one attempt). At most 1000000: a claim adds 1 and must
    -- stay an integer; a row at the bound cannot be claimed and is failed by the worker.
    attempts INTEGER NOT NULL DEFAULT 0
        CONSTRAINT attempts_in_range CHECK (typeof(attempts) = 'integer' AND attempts BETWEEN 0 AND 1000000),
    -- A pending row is not claimed before this time (backoff after a transient failure).
    next_attempt_at INTEGER NOT NULL DEFAULT 0
        CONSTRAINT next_attempt_at_is_integer CHECK (typeof(next_attempt_at) = 'integer'),
    -- Fencing token: incremented by every claim. A worker's updates name the token it claimed
    -- with and are refused once the row was claimed again. At most 10^18, for the same reason
    -- as attempts.
    lease_token INTEGER NOT NULL DEFAULT 0
        CONSTRAINT lease_token_in_range
        CHECK (typeof(lease_token) = 'integer' AND lease_token BETWEEN 0 AND 1000000000000000000),
    -- Worker holding the row ('host:pid:n'), NULL when no worker holds it.
    worker_id TEXT CONSTRAINT worker_id_is_text CHECK (typeof(worker_id) IN ('text', 'null')),
    -- The holder must heartbeat before this time, or recovery requeues the row.
    lease_expires_at INTEGER
        CONSTRAINT lease_expires_at_is_integer CHECK (typeof(lease_expires_at) IN ('integer', 'null')),
    -- Human-readable reason of the last failure (also kept while a transient failure is retried).
    error TEXT CONSTRAINT error_is_text CHECK (typeof(error) IN ('text', 'null')),
    -- 'permanent' or 'transient' for `error`.
    error_kind TEXT CHECK (error_kind IN ('permanent', 'transient')),
    -- Progress of the current attempt, in layer bytes: downloaded of bytes_total while pulling,
    -- applied to the disk of bytes_total while converting (reset to 0 when converting starts).
    -- Workers write them at most once a second.
    bytes_done INTEGER NOT NULL DEFAULT 0 CONSTRAINT bytes_done_is_integer CHECK (typeof(bytes_done) = 'integer'),
    bytes_total INTEGER CONSTRAINT bytes_total_is_integer CHECK (typeof(bytes_total) IN ('integer', 'null')),
    created_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
        CONSTRAINT created_at_is_integer CHECK (typeof(created_at) = 'integer'),
    updated_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
        CONSTRAINT updated_at_is_integer CHECK (typeof(updated_at) = 'integer'),
    -- When the current or last attempt was claimed, and when the row became ready or failed.
    started_at INTEGER CONSTRAINT started_at_is_integer CHECK (typeof(started_at) IN ('integer', 'null')),
    finished_at INTEGER CONSTRAINT finished_at_is_integer CHECK (typeof(finished_at) IN ('integer', 'null')),
    -- 1 (default): an ext4 or erofs disk carries a dm-verity hash tree after its filesystem
    -- (root hash, salt and offset in image_status); 0: no tree. cpio disks never carry one.
    -- Rows ready before migration 0004 keep their tree-less disk and hold 0.
    verity INTEGER NOT NULL DEFAULT 1
        CONSTRAINT verity_is_boolean CHECK (typeof(verity) = 'integer' AND verity IN (0, 1)),
    -- Host id (a worker's --host-id) this row must be built on, NULL (default): any host. Only
    -- workers of that host claim it, and its disk is in that host's data directory.
    target_host TEXT
        CONSTRAINT target_host_is_host_id
        CHECK (target_host IS NULL OR (typeof(target_host) = 'text' AND target_host <> '')),
    -- A row is in flight exactly when a worker holds a lease on it: pulling/converting rows
    -- have worker_id and lease_expires_at, other rows have neither.
    CONSTRAINT worker_id_and_lease_expires_at_iff_in_flight
        CHECK ((status IN ('pulling', 'converting')) = (worker_id IS NOT NULL AND lease_expires_at IS NOT NULL)),
    -- A failed row says why.
    CONSTRAINT failed_has_error CHECK (status <> 'failed' OR error IS NOT NULL)
);

-- Every pending row in claim order (priority, then id): queue positions and pending counts read it;
-- claims read the two indexes below.
CREATE INDEX images_pending ON images (priority DESC, id) WHERE status = 'pending';
-- In-flight rows, counted against the global limit at every claim.
CREATE INDEX images_active ON images (status) WHERE status IN ('pulling', 'converting');
CREATE INDEX images_name ON images (name);
CREATE INDEX images_digest ON images (digest);
CREATE INDEX images_artifact ON images (artifact_id);
-- Claims read the best unpinned row and the best row pinned to the claimer's host, each from
-- its own index, so a backlog pinned to other hosts is never scanned.
CREATE INDEX images_pending_any ON images (priority DESC, id) WHERE status = 'pending' AND target_host IS NULL;
CREATE INDEX images_pending_pinned ON images (target_host, priority DESC, id)
    WHERE status = 'pending' AND target_host IS NOT NULL;

-- One disk file per (host, manifest digest, format, verity), shared by every row of that host
-- that resolves to it.
CREATE TABLE artifacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Host id of the worker that built it, whose data directory holds `path` (`--host-id`).
    -- '' is "the host of this database file": a SQLite worker's default host id, and the
    -- host of every artifact built before migration 0005. Only workers of that host share,
    -- delete, collect or count it.
    host TEXT NOT NULL DEFAULT '',
    -- Platform manifest digest converted.
    manifest_digest TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('ext4', 'erofs', 'cpio', 'erofs-layers')),
    -- 1: the disk ends with a dm-verity superblock and hash tree (ext4, erofs; erofs-layers:
    -- every layer disk does); 0: it does not.
    verity INTEGER NOT NULL DEFAULT 0 CONSTRAINT artifact_verity_is_boolean CHECK (verity IN (0, 1)),
    -- building: the claim named by builder_image_id/builder_token converts it; it is alive
    -- while that images row is in flight under that token (no separate lease).
    -- ready: `path` is complete and renamed into place.
    state TEXT NOT NULL DEFAULT 'building' CHECK (state IN ('building', 'ready')),
    -- Absolute path of the disk file (recorded when the conversion starts, so gc never takes
    -- it for an orphan; the file exists there only once complete).
    path TEXT,
    -- Bytes the disk file takes on disk (allocated, not apparent).
    size_bytes INTEGER,
    -- Image config (entrypoint, cmd, env, …) as JSON.
    config_json TEXT,
    -- dm-verity, set when a verity disk is ready, NULL otherwise: the root hash and the salt
    -- (lowercase hex; SHA-256, format 1, 4096-byte data and hash blocks) and the byte offset
    -- of the veritysetup superblock, which is also the size of the filesystem area:
    -- veritysetup verify DISK DISK ROOT --hash-offset=OFFSET.
    verity_root_hash TEXT,
    verity_salt TEXT,
    verity_hash_offset INTEGER,
    -- The images row and token of the conversion in progress.
    builder_image_id INTEGER,
    builder_token INTEGER,
    -- Conversions started for this host+digest+format+verity (1 when dedupe worked).
    conversions INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
    ready_at INTEGER,
    -- erofs-layers: the layer disks, base first, as a JSON array of objects with diff_id, path,
    -- size_bytes, verity_root_hash, verity_salt and verity_hash_offset (the last three NULL
    -- without a tree). `path` is then a file holding the same JSON, size_bytes the sum of the
    -- layer disks. NULL for the other formats. Layer disks live in the data directory's
    -- layers/, shared by every artifact that lists them.
    layers_json TEXT,
    UNIQUE (host, manifest_digest, format, verity)
);

-- Settings shared by every worker process.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL,
    -- max_in_flight: 0 (claiming paused) to 1000000; max_attempts: 1 to 1000000; lease_ms: 100 ms
    -- to 7 days (now + lease_ms must stay an integer, and heartbeats run every lease_ms / 3).
    CONSTRAINT value_in_range_for_key CHECK (
        CASE key
            WHEN 'max_in_flight' THEN typeof(value) = 'integer' AND value BETWEEN 0 AND 1000000
            WHEN 'max_attempts' THEN typeof(value) = 'integer' AND value BETWEEN 1 AND 1000000
            WHEN 'lease_ms' THEN typeof(value) = 'integer' AND value BETWEEN 100 AND 604800000
            ELSE 1
        END)
) WITHOUT ROWID;

-- max_in_flight: rows in pulling/converting across all processes (claim refuses beyond it).
-- max_attempts: claims before a row that keeps failing transiently (or crashing) is failed.
-- lease_ms: how long a claim lives without a heartbeat.
INSERT INTO settings (key, value) VALUES ('max_in_flight', 4), ('max_attempts', 5), ('lease_ms', 60000);

-- What a person or a VM platform reads: one row per images row, with its disk and the image
-- config a boot needs. `image-worker status --json` prints exactly these columns.
CREATE VIEW image_status AS
SELECT
    i.id,
    -- As typed; normalized_name once a worker (or createImage) normalized it.
    i.name,
    i.normalized_name,
    -- What the name resolved to (index digest for a multi-platform image) and the platform
    -- manifest converted.
    i.digest,
    i.manifest_digest,
    i.platform,
    i.format,
    i.priority,
    i.status,
    -- 1-based place in claim order among pending rows (priority, then enqueue order);
    -- NULL unless pending. A row pinned to a host counts only the rows that host may
    -- claim (unpinned, or pinned to it); an unpinned row counts every pending row.
    CASE WHEN i.status = 'pending' THEN (
        SELECT count(*) FROM images AS p
        WHERE p.status = 'pending'
          AND (p.priority > i.priority OR (p.priority = i.priority AND p.id <= i.id))
          AND (i.target_host IS NULL OR p.target_host IS NULL OR p.target_host = i.target_host)
    ) END AS queue_position,
    i.attempts,
    i.error,
    i.error_kind,
    -- Progress of the current stage: layer bytes downloaded (pulling) or applied (converting)
    -- of bytes_total.
    i.bytes_done,
    i.bytes_total,
    -- Allocated bytes and absolute path of the disk file; NULL until ready.
    a.size_bytes,
    a.path AS artifact_path,
    -- The host the row is pinned to (NULL: any host) and the host whose data directory holds
    -- the disk ('' for the host of a SQLite database file); NULL until ready.
    i.target_host,
    a.host AS artifact_host,
    -- 1 when the row asked for a dm-verity tree (ext4, erofs); the disk has one exactly when
    -- verity_root_hash is not NULL: root hash and salt (hex) and the superblock's byte offset
    -- (the filesystem area's size). NULL until ready, and for cpio or verity = 0.
    i.verity,
    a.verity_root_hash,
    a.verity_salt,
    a.verity_hash_offset,
    -- erofs-layers: the layer disks, base first (JSON array, see artifacts.layers_json); the
    -- VM mounts them as overlayfs lower directories, the last one uppermost. NULL until ready
    -- and for the other formats.
    a.layers_json AS layers,
    -- The image config, NULL until ready. entrypoint, cmd and env are JSON arrays in image
    -- order (env entries are 'KEY=value' as the image lists them).
    json_extract(a.config_json, '$.Entrypoint') AS entrypoint,
    json_extract(a.config_json, '$.Cmd') AS cmd,
    json_extract(a.config_json, '$.Env') AS env,
    json_extract(a.config_json, '$.WorkingDir') AS working_dir,
    json_extract(a.config_json, '$.User') AS user,
    json_extract(a.config_json, '$.StopSignal') AS stop_signal,
    -- 1 when the command (entrypoint, then cmd) starts with /sbin/init, /lib/systemd/systemd
    -- or /usr/lib/systemd/systemd: the image wants systemd as init. NULL until ready.
    CASE WHEN a.id IS NOT NULL THEN
        coalesce(json_extract(a.config_json, '$.Entrypoint[0]'), json_extract(a.config_json, '$.Cmd[0]'), '')
            IN ('/sbin/init', '/lib/systemd/systemd', '/usr/lib/systemd/systemd')
    END AS is_systemd,
    -- Milliseconds since the epoch: enqueued, last change, current or last claim, ready/failed.
    i.created_at,
    i.updated_at,
    i.started_at,
    i.finished_at,
    -- The same times for people, UTC.
    strftime('%Y-%m-%d %H:%M:%S', i.created_at / 1000.0, 'unixepoch') AS created,
    strftime('%Y-%m-%d %H:%M:%S', i.updated_at / 1000.0, 'unixepoch') AS updated
FROM images AS i
LEFT JOIN artifacts AS a ON a.id = i.artifact_id AND a.state = 'ready';
-- Migrations applied, in order (user_version holds their count).
CREATE TABLE schema_migrations (
    identifier TEXT PRIMARY KEY,
    applied_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
) WITHOUT ROWID;
