/// Statements of the public surface (`Image`, `createImage`, the BuildQueue figures). Kept
/// beside ``Statements`` and under the same rules: named, numbered parameters, bound.
extension Statements {
    // MARK: - image_status (one row = one `Image`)

    /// No parameters. Every image_status row, oldest first.
    static let allImageStatus = SQLStatement(
        name: "allImageStatus", sql: "SELECT * FROM image_status ORDER BY id")
    /// ?1 a name, normalized name, digest or manifest digest; ?2 ?1 normalized (or ?1 again).
    /// Matching image_status rows, oldest first.
    static let imageStatusMatching = SQLStatement(
        name: "imageStatusMatching",
        sql: """
            SELECT * FROM image_status
            WHERE name IN (?1, ?2) OR normalized_name IN (?1, ?2) OR digest = ?1 OR manifest_digest = ?1
            ORDER BY id
            """)
    /// ?1 id. The image_status row.
    static let imageStatusByID = SQLStatement(
        name: "imageStatusByID", sql: "SELECT * FROM image_status WHERE id = ?1")

    // MARK: - createImage

    /// ?1 name as typed, ?2 normalized name, ?3 format, ?4 target host (NULL: any). The row
    /// createImage reuses: the newest of that format and pinning named either way, a failed one
    /// only when no other exists. Returns id, status.
    static let existingImage = SQLStatement(
        name: "existingImage",
        sql: """
            SELECT id, status FROM images
            WHERE format = ?3 AND (name = ?1 OR name = ?2 OR normalized_name = ?2)
              AND coalesce(target_host, '') = coalesce(?4, '')
            ORDER BY status = 'failed', id DESC LIMIT 1
            """)
    /// ?1 name, ?2 normalized name, ?3 format, ?4 priority, ?5 now, ?6 target host (NULL: any).
    /// Returns `id`.
    static let insertNormalizedImage = SQLStatement(
        name: "insertNormalizedImage",
        sql: """
            INSERT INTO images (name, normalized_name, format, priority, created_at, updated_at, target_host)
            VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) RETURNING id
            """, clock: 5)
    /// ?1 id, ?2 now. A failed row back to pending with fresh attempts.
    static let retryFailedByID = SQLStatement(
        name: "retryFailedByID",
        sql: """
            UPDATE images SET
                status = 'pending', attempts = 0, next_attempt_at = 0, error = NULL, error_kind = NULL,
                finished_at = NULL, updated_at = ?2
            WHERE id = ?1 AND status = 'failed'
            """, clock: 2)

    // MARK: - BuildQueue figures

    /// ?1 host. Returns `count`: pending and in-flight rows pinned to nobody or to ?1.
    static let outstandingForHost = SQLStatement(
        name: "outstandingForHost",
        sql: """
            SELECT count(*) AS count FROM images
            WHERE status IN ('pending', 'pulling', 'converting') AND (target_host IS NULL OR target_host = ?1)
            """)

    /// No parameters. Returns `active` (pulling + converting) and `pending`, from the two
    /// partial indexes.
    static let queueFigures = SQLStatement(
        name: "queueFigures",
        sql: """
            SELECT (SELECT count(*) FROM images WHERE status IN ('pulling', 'converting')) AS active,
                   (SELECT count(*) FROM images WHERE status = 'pending') AS pending
            """)
}
