/// Statements of the build pipeline: resolution, progress, shared artifacts, delete and GC.
/// Kept beside ``Statements`` and under the same rules: named, numbered parameters, bound.
extension Statements {
    // MARK: - Progress of a claim (fenced by lease token)

    /// ?1 id, ?2 lease token, ?3 now, ?4 normalized name, ?5 digest, ?6 manifest digest, ?7 platform.
    static let recordResolution = SQLStatement(
        name: "recordResolution",
        sql: """
            UPDATE images SET
                normalized_name = ?4, digest = ?5, manifest_digest = ?6, platform = ?7, updated_at = ?3
            WHERE id = ?1 AND lease_token = ?2 AND status IN ('pulling', 'converting')
            """, clock: 3)
    /// ?1 id, ?2 lease token, ?3 now, ?4 bytes done, ?5 bytes total, ?6 the stage the figures
    /// belong to ('pulling': downloaded, 'converting': applied). A figure of another stage than
    /// the row's is dropped, so a late download figure never lands on a converting row.
    static let recordProgress = SQLStatement(
        name: "recordProgress",
        sql: """
            UPDATE images SET bytes_done = ?4, bytes_total = ?5, updated_at = ?3
            WHERE id = ?1 AND lease_token = ?2 AND status = ?6
            """, clock: 3)
    /// ?1 id, ?2 lease token, ?3 now, ?4 milliseconds before the next attempt. Back to pending
    /// without using an attempt: another worker is converting the same digest and format.
    static let deferClaim = SQLStatement(
        name: "deferClaim",
        sql: """
            UPDATE images SET
                status = 'pending', worker_id = NULL, lease_expires_at = NULL,
                attempts = max(attempts - 1, 0), next_attempt_at = ?3 + ?4, updated_at = ?3
            WHERE id = ?1 AND lease_token = ?2 AND status IN ('pulling', 'converting')
            """,
        postgres: """
            UPDATE images SET
                status = 'pending', worker_id = NULL, lease_expires_at = NULL,
                attempts = greatest(attempts - 1, 0), next_attempt_at = $3 + $4, updated_at = $3
            WHERE id = $1 AND lease_token = $2 AND status IN ('pulling', 'converting')
            """, clock: 3)
    /// ?1 id, ?2 lease token, ?3 now, ?4 artifact id. Ready by sharing a ready artifact; refused
    /// (0 rows) when the artifact was deleted meanwhile.
    static let completeWithArtifact = SQLStatement(
        name: "completeWithArtifact",
        sql: """
            UPDATE images SET
                status = 'ready', worker_id = NULL, lease_expires_at = NULL, error = NULL, error_kind = NULL,
                artifact_id = ?4, finished_at = ?3, updated_at = ?3
            WHERE id = ?1 AND lease_token = ?2 AND status IN ('pulling', 'converting')
              AND EXISTS (SELECT 1 FROM artifacts WHERE id = ?4 AND state = 'ready')
            """, clock: 3)

    // MARK: - Artifacts

    /// ?1 manifest digest, ?2 format, ?3 verity (0 or 1), ?4 host. Returns that host's artifact row
    /// (id, state, path, size_bytes, builder_image_id, builder_token, layers_json).
    static let artifactFor = SQLStatement(
        name: "artifactFor",
        sql: """
            SELECT id, state, path, size_bytes, builder_image_id, builder_token, layers_json
            FROM artifacts WHERE manifest_digest = ?1 AND format = ?2 AND verity = ?3 AND host = ?4
            """)
    /// ?1 image id, ?2 lease token, ?3 now. Returns `alive` (0 or 1): the claim still holds its row.
    static let builderAlive = SQLStatement(
        name: "builderAlive",
        sql: """
            SELECT count(*) AS alive FROM images
            WHERE id = ?1 AND lease_token = ?2 AND status IN ('pulling', 'converting') AND lease_expires_at >= ?3
            """, clock: 3)
    /// ?1 manifest digest, ?2 format, ?3 final path, ?4 builder image id, ?5 builder token, ?6 now,
    /// ?7 verity (0 or 1), ?8 host (whose data directory will hold the file). Returns id.
    static let insertArtifact = SQLStatement(
        name: "insertArtifact",
        sql: """
            INSERT INTO artifacts (manifest_digest, format, verity, state, path, builder_image_id, builder_token,
                                   conversions, created_at, host)
            VALUES (?1, ?2, ?7, 'building', ?3, ?4, ?5, 1, ?6, ?8)
            RETURNING id
            """, clock: 6)
    /// ?1 artifact id, ?2 builder image id, ?3 builder token, ?4 final path. Takes over a
    /// conversion whose builder is gone.
    static let takeOverArtifact = SQLStatement(
        name: "takeOverArtifact",
        sql: """
            UPDATE artifacts SET builder_image_id = ?2, builder_token = ?3, path = ?4, conversions = conversions + 1
            WHERE id = ?1 AND state = 'building'
            """)
    /// ?1 artifact id, ?2 builder image id, ?3 builder token, ?4 path. A ready artifact whose file
    /// is gone or has another size than recorded goes back to building, by this claim.
    static let rebuildArtifact = SQLStatement(
        name: "rebuildArtifact",
        sql: """
            UPDATE artifacts SET
                state = 'building', builder_image_id = ?2, builder_token = ?3, path = ?4,
                size_bytes = NULL, ready_at = NULL, conversions = conversions + 1,
                verity_root_hash = NULL, verity_salt = NULL, verity_hash_offset = NULL, layers_json = NULL
            WHERE id = ?1 AND state = 'ready'
            """)
    /// ?1 artifact id, ?2 builder image id, ?3 builder token, ?4 allocated bytes, ?5 config JSON, ?6 now,
    /// ?7 verity root hash, ?8 verity salt, ?9 verity hash offset (all NULL without a tree),
    /// ?10 layers JSON (erofs-layers; NULL otherwise).
    static let publishArtifact = SQLStatement(
        name: "publishArtifact",
        sql: """
            UPDATE artifacts SET
                state = 'ready', size_bytes = ?4, config_json = ?5, ready_at = ?6,
                verity_root_hash = ?7, verity_salt = ?8, verity_hash_offset = ?9, layers_json = ?10,
                builder_image_id = NULL, builder_token = NULL
            WHERE id = ?1 AND state = 'building' AND builder_image_id = ?2 AND builder_token = ?3
            """, clock: 6)
    /// ?1 artifact id, ?2 builder image id, ?3 builder token. Drops a conversion that failed.
    static let abandonArtifact = SQLStatement(
        name: "abandonArtifact",
        sql: """
            DELETE FROM artifacts
            WHERE id = ?1 AND state = 'building' AND builder_image_id = ?2 AND builder_token = ?3
            """)
    /// No parameters. Drops conversions whose builder no longer holds its row (crash, recovery).
    static let abandonOrphanBuilds = SQLStatement(
        name: "abandonOrphanBuilds",
        sql: """
            DELETE FROM artifacts
            WHERE state = 'building' AND NOT EXISTS (
                SELECT 1 FROM images AS i
                WHERE i.id = artifacts.builder_image_id AND i.lease_token = artifacts.builder_token
                  AND i.status IN ('pulling', 'converting'))
            """)
    /// No parameters. Every artifact of every host: id, host, manifest_digest, format, verity,
    /// state, path, size_bytes, config_json, verity_root_hash, verity_salt, verity_hash_offset,
    /// layers_json.
    static let allArtifacts = SQLStatement(
        name: "allArtifacts",
        sql: """
            SELECT id, host, manifest_digest, format, verity, state, path, size_bytes, config_json,
                   verity_root_hash, verity_salt, verity_hash_offset, layers_json
            FROM artifacts ORDER BY id
            """)

    // MARK: - Delete and GC

    /// ?1 a name, normalized name, digest or manifest digest. Returns the deleted rows' id, status.
    static let deleteImages = SQLStatement(
        name: "deleteImages",
        sql: """
            DELETE FROM images WHERE name = ?1 OR normalized_name = ?1 OR digest = ?1 OR manifest_digest = ?1
            RETURNING id, status
            """)
    /// ?1 host. That host's ready artifacts no row points at: deleted, returning their paths and
    /// layers_json (files in that host's data directory; other hosts' artifacts are theirs to
    /// collect).
    static let deleteUnreferencedArtifacts = SQLStatement(
        name: "deleteUnreferencedArtifacts",
        sql: """
            DELETE FROM artifacts
            WHERE host = ?1 AND state = 'ready' AND NOT EXISTS (SELECT 1 FROM images AS i WHERE i.artifact_id = artifacts.id)
            RETURNING id, path, layers_json
            """)
    /// ?1 host. Digests whose blobs that host's content store still needs: digest and
    /// manifest_digest (either may be NULL) of every row the host may build (not pinned
    /// elsewhere) that has no disk on another host, and the manifest digests of its artifacts.
    static let referencedDigests = SQLStatement(
        name: "referencedDigests",
        sql: """
            SELECT DISTINCT i.digest, i.manifest_digest FROM images AS i
            WHERE (i.target_host IS NULL OR i.target_host = ?1)
              AND NOT EXISTS (SELECT 1 FROM artifacts AS a WHERE a.id = i.artifact_id AND a.host <> ?1)
            UNION SELECT NULL, manifest_digest FROM artifacts WHERE host = ?1
            """)
    /// No parameters. In-flight claims: id, lease_token (their scratch directories are live).
    static let inFlight = SQLStatement(
        name: "inFlight",
        sql: "SELECT id, lease_token FROM images WHERE status IN ('pulling', 'converting')")
}

extension Statements {
    /// ?1 id. The whole row.
    static let imageByID = SQLStatement(name: "imageByID", sql: "SELECT * FROM images WHERE id = ?1")
}

extension Statements {
    /// No parameters. Returns `data_version`: changes whenever another connection committed.
    static let dataVersion = SQLStatement(name: "dataVersion", sql: "PRAGMA data_version")
}
