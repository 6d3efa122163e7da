import Foundation

/// One image as a VM platform reads it back: the Go original's `Image` (name, digest, status,
/// queue position, error, size, entrypoint, cmd, env, working dir, created at) plus what this
/// service adds (format, platform, manifest digest, disk path, attempts, error kind, progress).
///
/// It is one row of the `image_status` view, field for column: ``ImageManager/getImage(_:format:)``
/// reads that view, `image-worker status --json` prints these keys (the view's column names,
/// snake_case), and a client that only speaks SQL gets the same values with
/// `SELECT * FROM image_status WHERE name = ?`. NULL columns are `nil` and encode as `null`.
///
/// Differences from the seed, on purpose: `name` is the reference as typed (the seed kept only
/// the normalized one; here it is ``normalizedName``); `env` keeps the image's order and its
/// `KEY=value` text (the seed's map lost both); times are milliseconds since the Unix epoch, as
/// in every column of the schema (``createdDate`` gives a `Date`); one images row per (name,
/// format), so one name may have several `Image`s. Fields added later are new keys (the
/// dm-verity fields came with migration 0004, the host fields with 0005, `layers` with 0006): decoders should ignore unknown keys.
public struct Image: Sendable, Equatable, Hashable, Codable {
    /// The images row id: a larger id was enqueued later.
    public var id: Int
    /// The reference exactly as it was enqueued (`alpine`, `localhost:5000/app@sha256:…`).
    public var name: String
    /// The normalized reference (`docker.io/library/alpine:latest`), once known.
    public var normalizedName: String?
    /// What the name resolved to: the index digest for a multi-platform image, else the
    /// manifest digest (the seed's `Digest`). `nil` until a worker resolved it.
    public var digest: String?
    /// The platform manifest converted (equals ``digest`` for a single-platform image).
    public var manifestDigest: String?
    /// The platform converted, `os/arch[/variant]`.
    public var platform: String?
    /// Disk format: `ext4`, `erofs`, `cpio` or `erofs-layers`.
    public var format: String
    /// Larger is claimed first; ties in enqueue order.
    public var priority: Int
    /// Where the row is in `pending → pulling → converting → ready | failed`.
    public var status: ImageStatus
    /// 1-based place in claim order among pending rows; `nil` unless pending (the seed's
    /// `QueuePosition`).
    public var queuePosition: Int?
    /// Claims so far.
    public var attempts: Int
    /// The reason of the last failure, one line (kept while a transient failure is retried).
    public var error: String?
    /// `permanent` or `transient` for ``error``.
    public var errorKind: String?
    /// Layer bytes of the current stage: downloaded while pulling, applied while converting.
    public var bytesDone: Int64
    /// Total layer bytes of the current attempt, once known.
    public var bytesTotal: Int64?
    /// Allocated bytes of the disk file (the seed's `SizeBytes`); `nil` until ready.
    public var sizeBytes: Int64?
    /// Absolute path of the disk file (the seed's `GetDiskPath`); `nil` until ready.
    public var diskPath: String?
    /// The host id the row is pinned to (`images.target_host`); `nil`: any host may build it.
    public var targetHost: String?
    /// The host whose data directory holds ``diskPath`` (`artifacts.host`; `""` is the host of
    /// a SQLite database file); `nil` until ready.
    public var artifactHost: String?
    /// The row asks for a dm-verity tree (`images.verity`; ext4 and erofs only).
    public var verity: Bool
    /// The disk's dm-verity root hash, lowercase hex: the value a VM platform trusts. `nil`
    /// until ready, and for a disk without a tree (cpio, `verity = 0`).
    public var verityRootHash: String?
    /// The dm-verity salt, lowercase hex.
    public var veritySalt: String?
    /// Byte offset of the veritysetup superblock in the disk file, also the size of the
    /// filesystem area: `veritysetup verify DISK DISK ROOT --hash-offset=N`; a dm table's
    /// `<hash_start_block>` is `N / 4096 + 1`.
    public var verityHashOffset: Int64?
    /// `erofs-layers`: the layer disks, base first, each with its diff_id, path, size and
    /// dm-verity figures; mounted as overlayfs lower directories, the last one uppermost.
    /// ``diskPath`` is then a file holding the same JSON list. `nil` until ready and for the
    /// other formats.
    public var layers: [ArtifactLayer]?
    /// The config's `Entrypoint`; `nil` until ready or when the image has none.
    public var entrypoint: [String]?
    /// The config's `Cmd`.
    public var cmd: [String]?
    /// The config's `Env`, `KEY=value` entries in image order.
    public var env: [String]?
    /// The config's `WorkingDir`.
    public var workingDir: String?
    /// The config's `User` (`name`, `uid`, `uid:gid`, …).
    public var user: String?
    /// The config's `StopSignal`.
    public var stopSignal: String?
    /// Whether the image wants systemd as init (the seed's `IsSystemdImage` of entrypoint + cmd);
    /// `nil` until ready.
    public var isSystemd: Bool?
    /// Enqueued, milliseconds since the Unix epoch (the seed's `CreatedAt`).
    public var createdAt: Int
    /// Last change of the row.
    public var updatedAt: Int
    /// When the current or last attempt was claimed.
    public var startedAt: Int?
    /// When the row became ready or failed.
    public var finishedAt: Int?
    /// ``createdAt`` for people: `YYYY-MM-DD HH:MM:SS`, UTC.
    public var created: String
    /// ``updatedAt`` for people.
    public var updated: String

    /// ``createdAt`` as a `Date`.
    public var createdDate: Date { Date(timeIntervalSince1970: Double(createdAt) / 1000) }

    /// ``env`` split at the first `=` into (key, value), in image order; an entry without `=`
    /// has an empty value.
    public var environment: [(key: String, value: String)] {
        (env ?? []).map { entry in
            guard let equals = entry.firstIndex(of: "=") else { return (entry, "") }
            return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name
        case normalizedName = "normalized_name"
        case digest
        case manifestDigest = "manifest_digest"
        case platform, format, priority, status
        case queuePosition = "queue_position"
        case attempts, error
        case errorKind = "error_kind"
        case bytesDone = "bytes_done"
        case bytesTotal = "bytes_total"
        case sizeBytes = "size_bytes"
        case diskPath = "artifact_path"
        case targetHost = "target_host"
        case artifactHost = "artifact_host"
        case verity
        case verityRootHash = "verity_root_hash"
        case veritySalt = "verity_salt"
        case verityHashOffset = "verity_hash_offset"
        case layers
        case entrypoint, cmd, env
        case workingDir = "working_dir"
        case user
        case stopSignal = "stop_signal"
        case isSystemd = "is_systemd"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case created, updated
    }

    /// Writes every field, `nil` ones as `null` (synthesized Codable would drop them), so the
    /// keys are always the view's columns.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(normalizedName, forKey: .normalizedName)
        try container.encode(digest, forKey: .digest)
        try container.encode(manifestDigest, forKey: .manifestDigest)
        try container.encode(platform, forKey: .platform)
        try container.encode(format, forKey: .format)
        try container.encode(priority, forKey: .priority)
        try container.encode(status, forKey: .status)
        try container.encode(queuePosition, forKey: .queuePosition)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(error, forKey: .error)
        try container.encode(errorKind, forKey: .errorKind)
        try container.encode(bytesDone, forKey: .bytesDone)
        try container.encode(bytesTotal, forKey: .bytesTotal)
        try container.encode(sizeBytes, forKey: .sizeBytes)
        try container.encode(diskPath, forKey: .diskPath)
        try container.encode(targetHost, forKey: .targetHost)
        try container.encode(artifactHost, forKey: .artifactHost)
        try container.encode(verity, forKey: .verity)
        try container.encode(verityRootHash, forKey: .verityRootHash)
        try container.encode(veritySalt, forKey: .veritySalt)
        try container.encode(verityHashOffset, forKey: .verityHashOffset)
        try container.encode(layers, forKey: .layers)
        try container.encode(entrypoint, forKey: .entrypoint)
        try container.encode(cmd, forKey: .cmd)
        try container.encode(env, forKey: .env)
        try container.encode(workingDir, forKey: .workingDir)
        try container.encode(user, forKey: .user)
        try container.encode(stopSignal, forKey: .stopSignal)
        try container.encode(isSystemd, forKey: .isSystemd)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(created, forKey: .created)
        try container.encode(updated, forKey: .updated)
    }
}

/// Values of `images.status`: the seed's `StatusPending` … `StatusFailed`.
public enum ImageStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting for a worker (or for its backoff after a transient failure).
    case pending
    /// Claimed: resolving and downloading.
    case pulling
    /// Applying layers and writing the disk.
    case converting
    /// The disk file is complete.
    case ready
    /// Gave up; ``Image/error`` says why.
    case failed

    /// `true` while a worker holds the row (pulling or converting).
    public var isInFlight: Bool { self == .pulling || self == .converting }
    /// `true` once the row will not change without a retry (ready or failed).
    public var isSettled: Bool { self == .ready || self == .failed }
}
