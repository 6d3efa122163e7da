/// `0005-hosts`: fleets of hosts sharing one queue (issue 14 item 4).
///
/// - `images.target_host` (NULL: any host) pins a row: only workers whose `--host-id` equals it
///   claim it. An empty string is refused (it would pin to no host anybody names).
/// - `artifacts.host` (NOT NULL, default `''`) joins the artifact's key: the same digest, format
///   and verity built on two hosts are two files, one in each host's data directory. `''` means
///   "the host of this database file": the default host id of a worker on a SQLite database and
///   the host of every artifact that existed before this step, so a single-host database keeps
///   sharing, collecting and counting its disks whatever the machine's hostname is or becomes.
///   SQLite cannot change a table's UNIQUE constraint, so `artifacts` is rebuilt as 0004 rebuilt
///   it (links saved and restored, AUTOINCREMENT sequence kept).
/// - Two partial indexes let a claim take the best unpinned row and the best row pinned to its
///   host without scanning rows pinned elsewhere.
/// - `image_status` shows `target_host` and the artifact's host as `artifact_host`.
extension Migrations {
    static let hosts = """
    DROP VIEW image_status;
    CREATE TEMP TABLE hosts_links AS SELECT id, artifact_id FROM images WHERE artifact_id IS NOT NULL;
    CREATE TEMP TABLE hosts_artifacts AS SELECT * FROM artifacts;
    CREATE TEMP TABLE hosts_sequence AS SELECT seq FROM sqlite_sequence WHERE name = 'artifacts';

    DROP TABLE artifacts;

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
        format TEXT NOT NULL CHECK (format IN ('ext4', 'erofs', 'cpio')),
        -- 1: the disk ends with a dm-verity superblock and hash tree (ext4, erofs); 0: it does not.
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
        UNIQUE (host, manifest_digest, format, verity)
    );

    INSERT INTO artifacts (id, host, manifest_digest, format, verity, state, path, size_bytes, config_json,
                           verity_root_hash, verity_salt, verity_hash_offset, builder_image_id, builder_token,
                           conversions, created_at, ready_at)
    SELECT id, '', manifest_digest, format, verity, state, path, size_bytes, config_json,
           verity_root_hash, verity_salt, verity_hash_offset, builder_image_id, builder_token,
           conversions, created_at, ready_at
    FROM temp.hosts_artifacts;
    UPDATE images SET artifact_id = (SELECT l.artifact_id FROM temp.hosts_links AS l WHERE l.id = images.id)
    WHERE id IN (SELECT id FROM temp.hosts_links);
    -- AUTOINCREMENT: dropping the table forgets its sequence; keep it so ids are never reused.
    INSERT INTO sqlite_sequence (name, seq)
    SELECT 'artifacts', seq FROM temp.hosts_sequence
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'artifacts');
    UPDATE sqlite_sequence SET seq = (SELECT seq FROM temp.hosts_sequence)
    WHERE name = 'artifacts' AND seq < (SELECT seq FROM temp.hosts_sequence);
    DROP TABLE temp.hosts_links;
    DROP TABLE temp.hosts_artifacts;
    DROP TABLE temp.hosts_sequence;

    ALTER TABLE images ADD COLUMN target_host TEXT
        CONSTRAINT target_host_is_host_id
        CHECK (target_host IS NULL OR (typeof(target_host) = 'text' AND target_host <> ''));
    -- Claims read the best unpinned row and the best row pinned to the claimer's host, each from
    -- its own index, so a backlog pinned to other hosts is never scanned.
    CREATE INDEX images_pending_any ON images (priority DESC, id) WHERE status = 'pending' AND target_host IS NULL;
    CREATE INDEX images_pending_pinned ON images (target_host, priority DESC, id)
        WHERE status = 'pending' AND target_host IS NOT NULL;

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
    """
}
