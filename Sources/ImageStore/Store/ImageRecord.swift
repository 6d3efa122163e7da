/// One row of the `images` table.
///
/// Encodes with the schema's column names as keys (`normalized_name`, `next_attempt_at`), NULL
/// columns as JSON `null`, so `--json` output matches schema.sql.
public struct ImageRecord: Sendable, Equatable, Codable {
    public var id: Int
    public var name: String
    public var format: String
    public var priority: Int
    /// pending, pulling, converting, ready or failed.
    public var status: String
    public var normalizedName: String?
    public var digest: String?
    public var manifestDigest: String?
    public var platform: String?
    public var artifactID: Int?
    public var attempts: Int
    public var nextAttemptAt: Int
    public var leaseToken: Int
    public var workerID: String?
    public var leaseExpiresAt: Int?
    public var error: String?
    public var errorKind: String?
    public var bytesDone: Int
    public var bytesTotal: Int?
    public var createdAt: Int
    public var updatedAt: Int
    public var startedAt: Int?
    public var finishedAt: Int?
    /// 1 (default): an ext4 or erofs disk gets a dm-verity tree; 0: none.
    public var verity: Int
    /// The host id the row is pinned to; `nil`: any host.
    public var targetHost: String?

    enum CodingKeys: String, CodingKey {
        case id, name, format, priority, status
        case normalizedName = "normalized_name"
        case digest
        case manifestDigest = "manifest_digest"
        case platform
        case artifactID = "artifact_id"
        case attempts
        case nextAttemptAt = "next_attempt_at"
        case leaseToken = "lease_token"
        case workerID = "worker_id"
        case leaseExpiresAt = "lease_expires_at"
        case error
        case errorKind = "error_kind"
        case bytesDone = "bytes_done"
        case bytesTotal = "bytes_total"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case verity
        case targetHost = "target_host"
    }

    init(row: SQLRow) throws {
        id = try row.int("id")
        name = try row.text("name")
        format = try row.text("format")
        priority = try row.int("priority")
        status = try row.text("status")
        normalizedName = try row.optionalText("normalized_name")
        digest = try row.optionalText("digest")
        manifestDigest = try row.optionalText("manifest_digest")
        platform = try row.optionalText("platform")
        artifactID = try row.optionalInt("artifact_id")
        attempts = try row.int("attempts")
        nextAttemptAt = try row.int("next_attempt_at")
        leaseToken = try row.int("lease_token")
        workerID = try row.optionalText("worker_id")
        leaseExpiresAt = try row.optionalInt("lease_expires_at")
        error = try row.optionalText("error")
        errorKind = try row.optionalText("error_kind")
        bytesDone = try row.int("bytes_done")
        bytesTotal = try row.optionalInt("bytes_total")
        createdAt = try row.int("created_at")
        updatedAt = try row.int("updated_at")
        startedAt = try row.optionalInt("started_at")
        finishedAt = try row.optionalInt("finished_at")
        verity = try row.int("verity")
        targetHost = try row.optionalText("target_host")
    }

    /// Writes every column, NULL ones as `null` (synthesized Codable would drop them).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(format, forKey: .format)
        try container.encode(priority, forKey: .priority)
        try container.encode(status, forKey: .status)
        try container.encode(normalizedName, forKey: .normalizedName)
        try container.encode(digest, forKey: .digest)
        try container.encode(manifestDigest, forKey: .manifestDigest)
        try container.encode(platform, forKey: .platform)
        try container.encode(artifactID, forKey: .artifactID)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(nextAttemptAt, forKey: .nextAttemptAt)
        try container.encode(leaseToken, forKey: .leaseToken)
        try container.encode(workerID, forKey: .workerID)
        try container.encode(leaseExpiresAt, forKey: .leaseExpiresAt)
        try container.encode(error, forKey: .error)
        try container.encode(errorKind, forKey: .errorKind)
        try container.encode(bytesDone, forKey: .bytesDone)
        try container.encode(bytesTotal, forKey: .bytesTotal)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(verity, forKey: .verity)
        try container.encode(targetHost, forKey: .targetHost)
    }
}
