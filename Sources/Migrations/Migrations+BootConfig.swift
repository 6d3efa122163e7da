extension Migrations {
    /// `image_status` gains what a VM platform needs to boot an image (the config's entrypoint,
    /// cmd, env, working dir, user, stop signal and the Go original's `IsSystemdImage`), and every
    /// field of the Swift `Image` value, so one `SELECT … FROM image_status WHERE name = ?` is the
    /// whole answer for a client that only speaks SQL. Only the view changes.
    static let imageStatusBootConfig = """
    DROP VIEW image_status;

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
        -- NULL unless pending.
        CASE WHEN i.status = 'pending' THEN (
            SELECT count(*) FROM images AS p
            WHERE p.status = 'pending'
              AND (p.priority > i.priority OR (p.priority = i.priority AND p.id <= i.id))
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
