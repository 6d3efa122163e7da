/// `0003-typed-checks`: every column of `images` and every known key of `settings` gets a typed
/// CHECK, so a hand-written INSERT that would have stalled the queue (priority 'high',
/// attempts = 2^63 - 1, a pulling row without a lease) is refused by the INSERT itself.
///
/// SQLite cannot add a CHECK to an existing table, so both tables are rebuilt the way
/// https://www.sqlite.org/lang_altertable.html ("Making Other Kinds Of Table Schema Changes")
/// describes, in the Migrator's one transaction: settle and copy the rows, drop the table,
/// create it with the new definition, copy back, recreate the indexes. One difference: the
/// copy lives in a TEMP table and the new table is created under its final name, instead of
/// creating `images_new` and renaming it. The rename would store the definition as
/// `CREATE TABLE "images"(…)` (schema.sql is compared with the migrated text) and is refused
/// while the `image_status` view names the dropped table; the view itself does not change, so it
/// is left alone (step 9 applies only to views the change affects). Foreign keys stay on:
/// `images` is only a child table, and dangling `artifact_id`s are settled to NULL before the
/// copy. Rows the new checks would refuse are settled, never dropped: a waiting or in-flight
/// row with a bad value is failed with a message naming the column.
extension Migrations {
    static let typedChecks = """
    -- Settle what the new checks would refuse, so the copy below loses no row. A row whose
    -- value cannot be kept gets a valid one; if the row was waiting or in flight it is failed
    -- with a message naming the column (an operator fixes it and runs `image-worker retry`).
    CREATE TEMP TABLE settled_images AS SELECT * FROM images;
    CREATE TEMP TABLE settled_problems (id INTEGER NOT NULL, problem TEXT NOT NULL);
    INSERT INTO temp.settled_problems
    SELECT id, 'name ' || quote(name) || ' is not text' FROM temp.settled_images WHERE typeof(name) <> 'text'
    UNION ALL SELECT id, 'priority ' || quote(priority) || ' is not an integer' FROM temp.settled_images
        WHERE typeof(priority) <> 'integer'
    UNION ALL SELECT id, 'attempts ' || quote(attempts) || ' is not an integer in 0...1000000' FROM temp.settled_images
        WHERE typeof(attempts) <> 'integer' OR attempts NOT BETWEEN 0 AND 1000000
    UNION ALL SELECT id, 'lease_token ' || quote(lease_token) || ' is not an integer in 0...1000000000000000000'
        FROM temp.settled_images
        WHERE typeof(lease_token) <> 'integer' OR lease_token NOT BETWEEN 0 AND 1000000000000000000
    UNION ALL SELECT id, 'next_attempt_at ' || quote(next_attempt_at) || ' is not an integer' FROM temp.settled_images
        WHERE typeof(next_attempt_at) <> 'integer';
    UPDATE temp.settled_images SET
        name = coalesce(CAST(name AS TEXT), ''),
        priority = CASE WHEN typeof(priority) = 'integer' THEN priority ELSE 0 END,
        attempts = CASE WHEN typeof(attempts) = 'integer' AND attempts BETWEEN 0 AND 1000000 THEN attempts ELSE 0 END,
        lease_token = CASE WHEN typeof(lease_token) = 'integer' AND lease_token BETWEEN 0 AND 1000000000000000000
            THEN lease_token ELSE 0 END,
        next_attempt_at = CASE WHEN typeof(next_attempt_at) = 'integer' THEN next_attempt_at ELSE 0 END,
        status = CASE WHEN status IN ('pending', 'pulling', 'converting') THEN 'failed' ELSE status END,
        error = CASE WHEN status IN ('pending', 'pulling', 'converting')
            THEN 'migration 0003-typed-checks: ' || (SELECT group_concat(problem, '; ') FROM temp.settled_problems AS p
                WHERE p.id = settled_images.id) || '; fix the row and run image-worker retry'
            ELSE error END,
        error_kind = CASE WHEN status IN ('pending', 'pulling', 'converting') THEN 'permanent' ELSE error_kind END
    WHERE id IN (SELECT id FROM temp.settled_problems);
    -- Columns nobody outside the worker should write: values of the wrong type become NULL or 0.
    UPDATE temp.settled_images SET
        normalized_name = CASE WHEN typeof(normalized_name) IN ('text', 'null') THEN normalized_name END,
        digest = CASE WHEN typeof(digest) IN ('text', 'null') THEN digest END,
        manifest_digest = CASE WHEN typeof(manifest_digest) IN ('text', 'null') THEN manifest_digest END,
        platform = CASE WHEN typeof(platform) IN ('text', 'null') THEN platform END,
        artifact_id = CASE WHEN typeof(artifact_id) = 'integer' AND artifact_id IN (SELECT id FROM artifacts)
            THEN artifact_id END,
        worker_id = CASE WHEN typeof(worker_id) IN ('text', 'null') THEN worker_id END,
        lease_expires_at = CASE WHEN typeof(lease_expires_at) IN ('integer', 'null') THEN lease_expires_at END,
        error = CASE WHEN typeof(error) IN ('text', 'null') THEN error ELSE CAST(error AS TEXT) END,
        bytes_done = CASE WHEN typeof(bytes_done) = 'integer' THEN bytes_done ELSE 0 END,
        bytes_total = CASE WHEN typeof(bytes_total) IN ('integer', 'null') THEN bytes_total END,
        created_at = CASE WHEN typeof(created_at) = 'integer' THEN created_at ELSE 0 END,
        updated_at = CASE WHEN typeof(updated_at) = 'integer' THEN updated_at ELSE 0 END,
        started_at = CASE WHEN typeof(started_at) IN ('integer', 'null') THEN started_at END,
        finished_at = CASE WHEN typeof(finished_at) IN ('integer', 'null') THEN finished_at END;
    -- In flight without a complete lease (inserted by hand): back to pending, the attempt given back.
    UPDATE temp.settled_images SET
        status = 'pending', worker_id = NULL, lease_expires_at = NULL, attempts = max(attempts - 1, 0)
    WHERE status IN ('pulling', 'converting') AND (worker_id IS NULL OR lease_expires_at IS NULL);
    -- Not in flight but holding a lease: the lease is meaningless.
    UPDATE temp.settled_images SET worker_id = NULL, lease_expires_at = NULL
    WHERE status NOT IN ('pulling', 'converting');
    UPDATE temp.settled_images SET error = 'failed without a recorded reason'
    WHERE status = 'failed' AND error IS NULL;
    -- AUTOINCREMENT: dropping the table forgets its sequence; keep it so ids are never reused.
    CREATE TEMP TABLE settled_sequence AS SELECT seq FROM sqlite_sequence WHERE name = 'images';

    DROP TABLE images;

    -- One row per name somebody asked for. Two rows naming the same image (a tag and a digest, two
    -- tags) share one artifact; each row keeps its own name. Every column has a typed CHECK, so a
    -- hand-written INSERT with a wrong type or an out-of-range counter is refused with the name of
    -- the constraint (which names the column) instead of stalling the queue later.
    CREATE TABLE images (
        -- Enqueue order: a larger id was enqueued later. Never reused.
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        -- The reference exactly as the user typed it ('alpine', 'alpine:3.18', 'x@sha256:…').
        name TEXT NOT NULL CONSTRAINT name_is_text CHECK (typeof(name) = 'text'),
        -- Output disk format: 'ext4' (default), 'erofs' or 'cpio' (newc initramfs).
        format TEXT NOT NULL DEFAULT 'ext4' CHECK (format IN ('ext4', 'erofs', 'cpio')),
        -- Larger runs first; ties go in enqueue order. An integer ('high' or 1.5 is refused).
        priority INTEGER NOT NULL DEFAULT 0 CONSTRAINT priority_is_integer CHECK (typeof(priority) = 'integer'),
        -- pending: waiting for a worker (or for next_attempt_at after a transient failure);
        -- pulling: claimed, resolving and downloading; converting: applying layers and writing the
        -- disk; ready: artifact complete; failed: gave up, `error` says why.
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'pulling', 'converting', 'ready', 'failed')),
        -- Normalized reference, set by the worker ('docker.io/library/alpine:3.18').
        normalized_name TEXT CONSTRAINT normalized_name_is_text CHECK (typeof(normalized_name) IN ('text', 'null')),
        -- Digest the name resolved to: the index digest for a multi-platform image, else the
        -- manifest digest. Looking an image up by this digest works.
        digest TEXT CONSTRAINT digest_is_text CHECK (typeof(digest) IN ('text', 'null')),
        -- Digest of the platform manifest that was converted (equals `digest` for single-platform).
        manifest_digest TEXT CONSTRAINT manifest_digest_is_text CHECK (typeof(manifest_digest) IN ('text', 'null')),
        -- Platform converted, 'os/arch[/variant]'.
        platform TEXT CONSTRAINT platform_is_text CHECK (typeof(platform) IN ('text', 'null')),
        -- The shared disk file this row points at, once resolved.
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
        -- Download progress of the current attempt, in bytes.
        bytes_done INTEGER NOT NULL DEFAULT 0 CONSTRAINT bytes_done_is_integer CHECK (typeof(bytes_done) = 'integer'),
        bytes_total INTEGER CONSTRAINT bytes_total_is_integer CHECK (typeof(bytes_total) IN ('integer', 'null')),
        created_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
            CONSTRAINT created_at_is_integer CHECK (typeof(created_at) = 'integer'),
        updated_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
            CONSTRAINT updated_at_is_integer CHECK (typeof(updated_at) = 'integer'),
        -- When the current or last attempt was claimed, and when the row became ready or failed.
        started_at INTEGER CONSTRAINT started_at_is_integer CHECK (typeof(started_at) IN ('integer', 'null')),
        finished_at INTEGER CONSTRAINT finished_at_is_integer CHECK (typeof(finished_at) IN ('integer', 'null')),
        -- A row is in flight exactly when a worker holds a lease on it: pulling/converting rows
        -- have worker_id and lease_expires_at, other rows have neither.
        CONSTRAINT worker_id_and_lease_expires_at_iff_in_flight
            CHECK ((status IN ('pulling', 'converting')) = (worker_id IS NOT NULL AND lease_expires_at IS NOT NULL)),
        -- A failed row says why.
        CONSTRAINT failed_has_error CHECK (status <> 'failed' OR error IS NOT NULL)
    );

    -- Claim order: the best pending row is the first entry of this index.
    CREATE INDEX images_pending ON images (priority DESC, id) WHERE status = 'pending';
    -- In-flight rows, counted against the global limit at every claim.
    CREATE INDEX images_active ON images (status) WHERE status IN ('pulling', 'converting');
    CREATE INDEX images_name ON images (name);
    CREATE INDEX images_digest ON images (digest);
    CREATE INDEX images_artifact ON images (artifact_id);

    INSERT INTO images SELECT * FROM temp.settled_images;
    UPDATE sqlite_sequence SET seq = (SELECT seq FROM temp.settled_sequence)
    WHERE name = 'images' AND seq < (SELECT seq FROM temp.settled_sequence);
    INSERT INTO sqlite_sequence (name, seq)
    SELECT 'images', seq FROM temp.settled_sequence
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'images');
    DROP TABLE temp.settled_images;
    DROP TABLE temp.settled_problems;
    DROP TABLE temp.settled_sequence;

    -- Settings: the same rebuild. A known key with a value out of its range gets its default back;
    -- a missing known key is inserted with its default; keys of other services are kept.
    CREATE TEMP TABLE settled_settings AS SELECT * FROM settings;
    DROP TABLE settings;

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

    INSERT INTO settings (key, value)
    SELECT key, CASE
            WHEN key = 'max_in_flight' AND NOT (typeof(value) = 'integer' AND value BETWEEN 0 AND 1000000) THEN 4
            WHEN key = 'max_attempts' AND NOT (typeof(value) = 'integer' AND value BETWEEN 1 AND 1000000) THEN 5
            WHEN key = 'lease_ms' AND NOT (typeof(value) = 'integer' AND value BETWEEN 100 AND 604800000) THEN 60000
            ELSE value
        END
    FROM temp.settled_settings;
    INSERT OR IGNORE INTO settings (key, value) VALUES ('max_in_flight', 4), ('max_attempts', 5), ('lease_ms', 60000);
    DROP TABLE temp.settled_settings;
    """
}
