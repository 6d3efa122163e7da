/// One row of the `artifacts` table: the disk file of one manifest digest in one format on one host.
public struct Artifact: Sendable, Equatable, Codable {
    public var id: Int
    /// The host whose data directory holds the file (``ImageQueue/host`` of its builder).
    public var host: String
    public var manifestDigest: String
    public var format: String
    /// The disk carries a dm-verity tree (part of the artifact's key).
    public var verity: Bool
    /// `building` or `ready`.
    public var state: String
    /// The final path (set when the conversion starts, complete once `state` is ready).
    public var path: String?
    /// Allocated bytes of the disk file.
    public var sizeBytes: Int?
    /// The image config object, JSON.
    public var configJSON: String?
    /// dm-verity root hash (hex), once a verity disk is ready.
    public var verityRootHash: String?
    /// dm-verity salt (hex).
    public var veritySalt: String?
    /// Byte offset of the veritysetup superblock (the filesystem area's size).
    public var verityHashOffset: Int?
    /// erofs-layers: the layer disks it lists, base first; `nil` for the other formats.
    public var layers: [ArtifactLayer]?

    /// Every file of the artifact: ``path`` and the layer disks it lists.
    public var filePaths: [String] { (path.map { [$0] } ?? []) + (layers ?? []).map(\.path) }

    enum CodingKeys: String, CodingKey {
        case id, host, format, state, path
        case manifestDigest = "manifest_digest"
        case sizeBytes = "size_bytes"
        case configJSON = "config_json"
        case verity
        case verityRootHash = "verity_root_hash"
        case veritySalt = "verity_salt"
        case verityHashOffset = "verity_hash_offset"
        case layers = "layers_json"
    }
}

/// What ``ImageQueue/acquireBuild(_:manifestDigest:format:path:now:)`` found.
public enum BuildLock: Sendable, Equatable {
    /// The disk exists: share it.
    case ready(artifactID: Int, path: String)
    /// This claim converts; publish or abandon artifact `artifactID`.
    case acquired(artifactID: Int)
    /// Another live worker is converting the same digest and format.
    case busy
}
