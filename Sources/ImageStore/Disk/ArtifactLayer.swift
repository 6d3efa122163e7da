import Foundation

/// One layer disk of an `erofs-layers` artifact, as the artifact lists it: an element of
/// `artifacts.layers_json`, of the artifact file `<hex>[.verity].erofs-layers.json` (the same
/// JSON) and of `image_status.layers`, base first.
///
/// ```json
/// [{"diff_id": "sha256:…", "path": "/var/lib/image-worker/layers/….verity.erofs",
///   "size_bytes": 94208, "verity_root_hash": "…", "verity_salt": "…", "verity_hash_offset": 90112}]
/// ```
///
/// A VM platform mounts each disk read-only (through dm-verity with the root hash when there is
/// one) and stacks them as overlayfs lower directories, the last element uppermost:
/// `lowerdir=L(n-1):…:L0`.
public struct ArtifactLayer: Sendable, Hashable, Codable {
    /// The layer's diff_id (`rootfs.diff_ids` of the image config).
    public var diffID: String
    /// Absolute path of the layer disk (in the builder host's data directory, `layers/`).
    public var path: String
    /// Allocated bytes of the disk file.
    public var sizeBytes: Int64
    /// dm-verity root hash and salt (lowercase hex) and the superblock's byte offset; `nil`
    /// for a disk without a tree.
    public var verityRootHash: String?
    public var veritySalt: String?
    public var verityHashOffset: Int64?

    /// The entry of `disk`.
    public init(_ disk: LayerDisk) {
        diffID = disk.diffID.description
        path = disk.path
        sizeBytes = Int64(clamping: disk.allocatedBytes)
        verityRootHash = disk.verity?.rootHash
        veritySalt = disk.verity?.salt
        verityHashOffset = disk.verity.map { Int64(clamping: $0.hashOffset) }
    }

    enum CodingKeys: String, CodingKey {
        case diffID = "diff_id"
        case path
        case sizeBytes = "size_bytes"
        case verityRootHash = "verity_root_hash"
        case veritySalt = "verity_salt"
        case verityHashOffset = "verity_hash_offset"
    }

    /// Writes every key, `nil` ones as `null`, so each element has the same keys.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(diffID, forKey: .diffID)
        try container.encode(path, forKey: .path)
        try container.encode(sizeBytes, forKey: .sizeBytes)
        try container.encode(verityRootHash, forKey: .verityRootHash)
        try container.encode(veritySalt, forKey: .veritySalt)
        try container.encode(verityHashOffset, forKey: .verityHashOffset)
    }

    /// The JSON text of `layers` (sorted keys, unescaped slashes): what the artifact stores.
    public static func json(_ layers: [ArtifactLayer]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings and integers cannot fail.
        return String(decoding: (try? encoder.encode(layers)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// The layers of a `layers_json` text; `nil` when it is not such a list.
    public static func list(json text: String) -> [ArtifactLayer]? {
        try? JSONDecoder().decode([ArtifactLayer].self, from: Data(text.utf8))
    }
}
