/// Every SQL statement ImageStore runs, by name, in the SQLite dialect and, where it differs,
/// the PostgreSQL one (see ``SQLStatement``). Parameters are numbered (`?1`) and always
/// bound; times are milliseconds since the Unix epoch. Migration steps live in the
/// Migrations module; nothing else in Sources holds SQL.
enum Statements {
    // MARK: - Connection

    /// No parameters. Run once per connection, before anything else.
    static let configure = SQLStatement(
        name: "configure",
        sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
    /// No parameters.
    static let beginImmediate = SQLStatement(name: "beginImmediate", sql: "BEGIN IMMEDIATE", postgres: "BEGIN")
    /// No parameters.
    static let commit = SQLStatement(name: "commit", sql: "COMMIT")
    /// No parameters.
    static let rollback = SQLStatement(name: "rollback", sql: "ROLLBACK")

    // MARK: - Migrations

    /// No parameters. Returns `count` (0 or 1).
    static let schemaMigrationsExists = SQLStatement(
        name: "schemaMigrationsExists",
        sql: "SELECT count(*) AS count FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'")
    /// No parameters. Same text as schema.sql (the schema test compares them).
    static let createSchemaMigrations = SQLStatement(
        name: "createSchemaMigrations",
        sql: """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                identifier TEXT PRIMARY KEY,
                applied_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
            ) WITHOUT ROWID
            """)
    /// No parameters. Returns `identifier`.
    static let appliedMigrations = SQLStatement(
        name: "appliedMigrations", sql: "SELECT identifier FROM schema_migrations")
    /// ?1 identifier.
    static let recordMigration = SQLStatement(
        name: "recordMigration", sql: "INSERT INTO schema_migrations (identifier) VALUES (?1)")

    /// `PRAGMA user_version` takes no bound parameter, so the text carries `count`: an integer
    /// this binary computed, never input.
    static func setUserVersion(_ count: Int) -> SQLStatement {
        SQLStatement(name: "setUserVersion\(count)", sql: "PRAGMA user_version = \(count)")
    }

    /// No parameters. Returns `user_version`.
    static let userVersion = SQLStatement(name: "userVersion", sql: "PRAGMA user_version")

    // MARK: - Settings

    /// ?1 key. Returns `value`.
    static let selectSetting = SQLStatement(
        name: "selectSetting", sql: "SELECT value FROM settings WHERE key = ?1")
    /// ?1 key, ?2 value.
    static let upsertSetting = SQLStatement(
        name: "upsertSetting",
        sql: "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")

    // MARK: - Enqueue and read

    /// ?1 name, ?2 format, ?3 priority, ?4 now, ?5 target host (NULL: any). Returns `id`.
    static let insertImage = SQLStatement(
        name: "insertImage",
        sql: """
            INSERT INTO images (name, format, priority, created_at, updated_at, target_host)
            VALUES (?1, ?2, ?3, ?4, ?4, ?5) RETURNING id
            """, clock: 4)
    /// No parameters. Every images row, oldest first.
    static let listImages = SQLStatement(name: "listImages", sql: "SELECT * FROM images ORDER BY id")
    /// ?1 a name, normalized name or digest. Matching images rows, oldest first.
    static let imagesMatching = SQLStatement(
        name: "imagesMatching",
        sql: "SELECT * FROM images WHERE name = ?1 OR normalized_name = ?1 OR digest = ?1 ORDER BY id")
    /// ?1 status. Returns `count`.
    static let countWithStatus = SQLStatement(
        name: "countWithStatus", sql: "SELECT count(*) AS count FROM images WHERE status = ?1")
    /// No parameters. Returns status, count for every status with rows.
    static let countByStatus = SQLStatement(
        name: "countByStatus", sql: "SELECT status, count(*) AS count FROM images GROUP BY status")
    /// ?1 id. Returns `queue_position` from the image_status view (NULL unless pending).
    static let queuePosition = SQLStatement(
        name: "queuePosition", sql: "SELECT queue_position FROM image_status WHERE id = ?1")

    // MARK: - Claim and lease (every update names the lease token: fencing)

    /// ?1 worker id, ?2 now, ?3 default lease_ms, ?4 default max_in_flight (used when the settings
    /// row is missing), ?5 the claimer's host id. Takes the best pending row whose next_attempt_at
    /// has come and whose target_host is NULL or ?5 (the better of the heads of
    /// images_pending_any and of ?5's part of images_pending_pinned, so rows pinned to other
    /// hosts are never scanned), unless
    /// pulling + converting rows already reach max_in_flight. Returns id, name, format,
    /// lease_token, attempts. Runs in a ``beginClaim`` transaction: on PostgreSQL the row is
    /// taken `FOR UPDATE SKIP LOCKED` (a row another transaction holds is passed over, not
    /// waited for), and the count is exact because claims hold the claim advisory lock.
    ///
    /// The PostgreSQL text spells the pinned head's host test as a range (`>= ?5 AND <= ?5`,
    /// the same rows as `= ?5` under the database's deterministic collation) ordered by
    /// `target_host` first: with `= ?5` the planner drops the column from the sort order, and a
    /// generic plan (one that cannot know the host) then walks images_pending past every row
    /// pinned to other hosts (measured: 24 ms per claim with 100,000 such rows). As written,
    /// only images_pending_pinned gives that order, so the one cached generic plan
    /// ``beginClaim`` asks for is right for every host and the claim is not planned again
    /// each time (0.02 ms against 0.35 ms of planning per claim, measured).
    static let claimNext = SQLStatement(
        name: "claimNext",
        sql: """
            UPDATE images SET
                status = 'pulling', worker_id = ?1,
                lease_expires_at = ?2 + coalesce((SELECT value FROM settings WHERE key = 'lease_ms'), ?3),
                lease_token = lease_token + 1, attempts = attempts + 1,
                started_at = ?2, updated_at = ?2, finished_at = NULL, bytes_done = 0, bytes_total = NULL
            WHERE id = (
                SELECT id FROM (
                    SELECT id, priority FROM (
                        SELECT id, priority FROM images
                        WHERE status = 'pending' AND target_host IS NULL AND next_attempt_at <= ?2
                        ORDER BY priority DESC, id LIMIT 1) AS unpinned
                    UNION ALL
                    SELECT id, priority FROM (
                        SELECT id, priority FROM images
                        WHERE status = 'pending' AND target_host = ?5 AND next_attempt_at <= ?2
                        ORDER BY priority DESC, id LIMIT 1) AS pinned) AS heads
                ORDER BY priority DESC, id LIMIT 1)
              AND (SELECT count(*) FROM images WHERE status IN ('pulling', 'converting'))
                < coalesce((SELECT value FROM settings WHERE key = 'max_in_flight'), ?4)
            RETURNING id, name, format, lease_token, attempts, verity
            """,
        postgres: """
            UPDATE images SET
                status = 'pulling', worker_id = $1,
                lease_expires_at = $2 + coalesce((SELECT value FROM settings WHERE key = 'lease_ms'), $3),
                lease_token = lease_token + 1, attempts = attempts + 1,
                started_at = $2, updated_at = $2, finished_at = NULL, bytes_done = 0, bytes_total = NULL
            WHERE id = (
                SELECT id FROM (
                    SELECT id, priority FROM (
                        SELECT id, priority FROM images
                        WHERE status = 'pending' AND target_host IS NULL AND next_attempt_at <= $2
                        ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED) AS unpinned
                    UNION ALL
                    SELECT id, priority FROM (
                        SELECT id, priority FROM images
                        WHERE status = 'pending' AND target_host >= $5 AND target_host <= $5 AND next_attempt_at <= $2
                        ORDER BY target_host, priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED) AS pinned) AS heads
                ORDER BY priority DESC, id LIMIT 1)
              AND (SELECT count(*) FROM images WHERE status IN ('pulling', 'converting'))
                < coalesce((SELECT value FROM settings WHERE key = 'max_in_flight'), $4)
            RETURNING id, name, format, lease_token, attempts, verity
            """, clock: 2)
    /// ?1 now, ?2 the claimer's host id. The row ``claimNext`` would take (ignoring
    /// max_in_flight): id. The PostgreSQL text tests the host as ``claimNext`` does, for the same reason.
    static let headPending = SQLStatement(
        name: "headPending",
        sql: """
            SELECT id FROM (
                SELECT id, priority FROM (
                    SELECT id, priority FROM images
                    WHERE status = 'pending' AND target_host IS NULL AND next_attempt_at <= ?1
                    ORDER BY priority DESC, id LIMIT 1) AS unpinned
                UNION ALL
                SELECT id, priority FROM (
                    SELECT id, priority FROM images
                    WHERE status = 'pending' AND target_host = ?2 AND next_attempt_at <= ?1
                    ORDER BY priority DESC, id LIMIT 1) AS pinned) AS heads
            ORDER BY priority DESC, id LIMIT 1
            """,
        postgres: """
            SELECT id FROM (
                SELECT id, priority FROM (
                    SELECT id, priority FROM images
                    WHERE status = 'pending' AND target_host IS NULL AND next_attempt_at <= $1
                    ORDER BY priority DESC, id LIMIT 1) AS unpinned
                UNION ALL
                SELECT id, priority FROM (
                    SELECT id, priority FROM images
                    WHERE status = 'pending' AND target_host >= $2 AND target_host <= $2 AND next_attempt_at <= $1
                    ORDER BY target_host, priority DESC, id LIMIT 1) AS pinned) AS heads
            ORDER BY priority DESC, id LIMIT 1
            """, clock: 1)
    /// ?1 id, ?2 now, ?3 error text. Fails a row that cannot be claimed (a claim of it broke a
    /// constraint or could not be read back), so it never blocks the head of the queue.
    static let failUnclaimable = SQLStatement(
        name: "failUnclaimable",
        sql: """
            UPDATE images SET
                status = 'failed', worker_id = NULL, lease_expires_at = NULL,
                error = ?3, error_kind = 'permanent', finished_at = ?2, updated_at = ?2
            WHERE id = ?1 AND status IN ('pending', 'pulling', 'converting')
            """, clock: 2)
    /// ?1 id, ?2 lease token, ?3 now, ?4 default lease_ms. Returns lease_ms, the lease now in force.
    static let heartbeat = SQLStatement(
        name: "heartbeat",
        sql: """
            UPDATE images SET
                lease_expires_at = ?3 + coalesce((SELECT value FROM settings WHERE key = 'lease_ms'), ?4),
                updated_at = ?3
            WHERE id = ?1 AND lease_token = ?2 AND status IN ('pulling', 'converting')
            RETURNING lease_expires_at - ?3 AS lease_ms
            """, clock: 3)
    /// ?1 id, ?2 lease token, ?3 now, ?4 default lease_ms, ?5 layer bytes to apply (NULL keeps
    /// bytes_total). bytes_done restarts at 0: it counts applied bytes from here.
    static let markConverting = SQLStatement(
        name: "markConverting",
        sql: """
            UPDATE images SET
                status = 'converting', bytes_done = 0, bytes_total = coalesce(?5, bytes_total),
                lease_expires_at = ?3 + coalesce((SELECT value FROM settings WHERE key = 'lease_ms'), ?4),
                updated_at = ?3
            WHERE id = ?1 AND lease_token = ?2 AND status IN ('pulling', 'converting')
            """, clock: 3)
    /// ?1 id, ?2 lease token, ?3 now, ?4 normalized name, ?5 digest, ?6 manifest digest,
    /// ?7 platform, ?8 artifact id. NULLs keep the column's value.
    static let complete = SQLStatement(
        name: "complete",
        sql: """
            UPDATE images SET
                status = 'ready', worker_id = NULL, lease_expires_at = NULL, error = NULL, error_kind = NULL,
                normalized_name = coalesce(?4, normalized_name), digest = coalesce(?5, digest),
                manifest_digest = coalesce(?6, manifest_digest), platform = coalesce(?7, platform),
                artifact_id = coalesce(?8, artifact_id), finished_at = ?3, updated_at = ?3
            WHERE id = ?1 AND lease_token = ?2 AND status IN ('pulling', 'converting')
            """, clock: 3)
    /// ?1 id, ?2 lease token, ?3 now. ``complete`` with every optional column kept: it assigns
    /// none of digest or artifact_id, so SQLite does not rewrite their indexes (fewer WAL
    /// pages per complete).
    static let completeKeepingColumns = SQLStatement(
        name: "completeKeepingColumns",
        sql: """
            UPDATE images SET
                status = 'ready', worker_id = NULL, lease_expires_at = NULL, error = NULL, error_kind = NULL,
                finished_at = ?3, updated_at = ?3
            WHERE id = ?1 AND lease_token = ?2 AND status IN ('pulling', 'converting')
            """, clock: 3)
    /// ?1 id, ?2 lease token, ?3 now, ?4 error text, ?5 error kind ('permanent'/'transient').
    static let fail = SQLStatement(
        name: "fail",
        sql: """
            UPDATE images SET
                status = 'failed', worker_id = NULL, lease_expires_at = NULL,
                error = ?4, error_kind = ?5, finished_at = ?3, updated_at = ?3
            WHERE id = ?1 AND lease_token = ?2 AND status IN ('pulling', 'converting')
            """, clock: 3)
    /// ?1 id, ?2 lease token, ?3 now, ?4 error text, ?5 milliseconds before the next attempt.
    /// Returns next_attempt_at.
    static let requeue = SQLStatement(
        name: "requeue",
        sql: """
            UPDATE images SET
                status = 'pending', worker_id = NULL, lease_expires_at = NULL,
                error = ?4, error_kind = 'transient', next_attempt_at = ?3 + ?5, updated_at = ?3
            WHERE id = ?1 AND lease_token = ?2 AND status IN ('pulling', 'converting')
            RETURNING next_attempt_at
            """, clock: 3)
    /// ?1 id, ?2 lease token, ?3 now. Gives the attempt back: the worker stopped, the image did not fail.
    static let release = SQLStatement(
        name: "release",
        sql: """
            UPDATE images SET
                status = 'pending', worker_id = NULL, lease_expires_at = NULL,
                attempts = max(attempts - 1, 0), updated_at = ?3
            WHERE id = ?1 AND lease_token = ?2 AND status IN ('pulling', 'converting')
            """,
        postgres: """
            UPDATE images SET
                status = 'pending', worker_id = NULL, lease_expires_at = NULL,
                attempts = greatest(attempts - 1, 0), updated_at = $3
            WHERE id = $1 AND lease_token = $2 AND status IN ('pulling', 'converting')
            """, clock: 3)
    /// ?1 id. Returns status, lease_token, attempts.
    static let leaseState = SQLStatement(
        name: "leaseState", sql: "SELECT status, lease_token, attempts FROM images WHERE id = ?1")

    // MARK: - Recovery and retry

    /// ?1 now, ?2 the longest lease_ms. In-flight rows whose lease expired, or that hold no
    /// lease a worker could have written (none, or one ending later than ?1 + ?2): id, name,
    /// status, worker_id, `expired` (1 when the lease ran out), lease_token, attempts, `now`
    /// (?1, the clock used).
    static let expiredLeases = SQLStatement(
        name: "expiredLeases",
        sql: """
            SELECT id, name, status, worker_id, coalesce(lease_expires_at < ?1, 0) AS expired, lease_token,
                   attempts, ?1 AS now
            FROM images
            WHERE status IN ('pulling', 'converting')
              AND (lease_expires_at IS NULL OR lease_expires_at < ?1 OR lease_expires_at > ?1 + ?2)
            ORDER BY id
            """,
        postgres: """
            SELECT id, name, status, worker_id, coalesce(lease_expires_at < $1, false) AS expired, lease_token,
                   attempts, $1 AS now
            FROM images
            WHERE status IN ('pulling', 'converting')
              AND (lease_expires_at IS NULL OR lease_expires_at < $1 OR lease_expires_at > $1 + $2)
            ORDER BY id
            """, clock: 1)
    /// ?1 now, ?2 a name, normalized name or digest. Failed rows go back to pending with fresh attempts.
    static let retryFailed = SQLStatement(
        name: "retryFailed",
        sql: """
            UPDATE images SET
                status = 'pending', attempts = 0, next_attempt_at = 0, error = NULL, error_kind = NULL,
                finished_at = NULL, updated_at = ?1
            WHERE status = 'failed' AND (name = ?2 OR normalized_name = ?2 OR digest = ?2)
            """, clock: 1)
}
