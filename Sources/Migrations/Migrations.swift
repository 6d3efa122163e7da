/// The ordered history of the schema. Append only: a step that shipped is never edited,
/// renamed or removed. `schema.sql` at the repository root is the result of applying all of
/// them; `MigrationsTests` keeps the two equal.
public enum Migrations {
    /// Every step, oldest first.
    public static let all: [Migration] = [
        Migration("0001-create-images", sql: createImages),
        Migration("0002-image-status-boot-config", sql: imageStatusBootConfig),
        Migration("0003-typed-checks", sql: typedChecks),
        Migration("0004-verity", sql: verity),
        Migration("0005-hosts", sql: hosts),
        Migration("0006-erofs-layers", sql: erofsLayers),
    ]

    static let createImages = """
    -- One row per name somebody asked for. Two rows naming the same image (a tag and a digest, two
    -- tags) share one artifact; each row keeps its own name.
    CREATE TABLE images (
        -- Enqueue order: a larger id was enqueued later. Never reused.
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        -- The reference exactly as the user typed it ('alpine', 'alpine:3.18', 'x@sha256:…').
        name TEXT NOT NULL,
        -- Output disk format: 'ext4' (default), 'erofs' or 'cpio' (newc initramfs).
        format TEXT NOT NULL DEFAULT 'ext4' CHECK (format IN ('ext4', 'erofs', 'cpio')),
        -- Larger runs first; ties go in enqueue order.
        priority INTEGER NOT NULL DEFAULT 0,
        -- pending: waiting for a worker (or for next_attempt_at after a transient failure);
        -- pulling: claimed, resolving and downloading; converting: applying layers and writing the
        -- disk; ready: artifact complete; failed: gave up, `error` says why.
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'pulling', 'converting', 'ready', 'failed')),
        -- Normalized reference, set by the worker ('docker.io/library/alpine:3.18').
        normalized_name TEXT,
        -- Digest the name resolved to: the index digest for a multi-platform image, else the
        -- manifest digest. Looking an image up by this digest works.
        digest TEXT,
        -- Digest of the platform manifest that was converted (equals `digest` for single-platform).
        manifest_digest TEXT,
        -- Platform converted, 'os/arch[/variant]'.
        platform TEXT,
        -- The shared disk file this row points at, once resolved.
        artifact_id INTEGER REFERENCES artifacts (id) ON DELETE SET NULL,
        -- Claims so far (each claim counts one attempt).
        attempts INTEGER NOT NULL DEFAULT 0,
        -- A pending row is not claimed before this time (backoff after a transient failure).
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        -- Fencing token: incremented by every claim. A worker's updates name the token it claimed
        -- with and are refused once the row was claimed again.
        lease_token INTEGER NOT NULL DEFAULT 0,
        -- Worker holding the row ('host:pid:n'), NULL when no worker holds it.
        worker_id TEXT,
        -- The holder must heartbeat before this time, or recovery requeues the row.
        lease_expires_at INTEGER,
        -- Human-readable reason of the last failure (also kept while a transient failure is retried).
        error TEXT,
        -- 'permanent' or 'transient' for `error`.
        error_kind TEXT CHECK (error_kind IN ('permanent', 'transient')),
        -- Download progress of the current attempt, in bytes.
        bytes_done INTEGER NOT NULL DEFAULT 0,
        bytes_total INTEGER,
        created_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
        updated_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
        -- When the current or last attempt was claimed, and when the row became ready or failed.
        started_at INTEGER,
        finished_at INTEGER
    );

    -- Claim order: the best pending row is the first entry of this index.
    CREATE INDEX images_pending ON images (priority DESC, id) WHERE status = 'pending';
    -- In-flight rows, counted against the global limit at every claim.
    CREATE INDEX images_active ON images (status) WHERE status IN ('pulling', 'converting');
    CREATE INDEX images_name ON images (name);
    CREATE INDEX images_digest ON images (digest);
    CREATE INDEX images_artifact ON images (artifact_id);

    -- One disk file per (manifest digest, format), shared by every row that resolves to it.
    CREATE TABLE artifacts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        -- Platform manifest digest converted.
        manifest_digest TEXT NOT NULL,
        format TEXT NOT NULL CHECK (format IN ('ext4', 'erofs', 'cpio')),
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
        -- The images row and token of the conversion in progress.
        builder_image_id INTEGER,
        builder_token INTEGER,
        -- Conversions started for this digest+format (1 when dedupe worked).
        conversions INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
        ready_at INTEGER,
        UNIQUE (manifest_digest, format)
    );

    -- Settings shared by every worker process.
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID;

    -- max_in_flight: rows in pulling/converting across all processes (claim refuses beyond it).
    -- max_attempts: claims before a row that keeps failing transiently (or crashing) is failed.
    -- lease_ms: how long a claim lives without a heartbeat.
    INSERT INTO settings (key, value) VALUES ('max_in_flight', 4), ('max_attempts', 5), ('lease_ms', 60000);

    -- What a person reads: sqlite3 -box DB 'select * from image_status'.
    CREATE VIEW image_status AS
    SELECT
        i.id,
        i.name,
        i.normalized_name,
        i.digest,
        i.format,
        i.status,
        CASE WHEN i.status = 'pending' THEN (
            SELECT count(*) FROM images AS p
            WHERE p.status = 'pending'
              AND (p.priority > i.priority OR (p.priority = i.priority AND p.id <= i.id))
        ) END AS queue_position,
        i.attempts,
        i.error,
        a.size_bytes,
        a.path AS artifact_path,
        strftime('%Y-%m-%d %H:%M:%S', i.created_at / 1000.0, 'unixepoch') AS created,
        strftime('%Y-%m-%d %H:%M:%S', i.updated_at / 1000.0, 'unixepoch') AS updated
    FROM images AS i
    LEFT JOIN artifacts AS a ON a.id = i.artifact_id AND a.state = 'ready';
    """
}
