import Foundation

/// The identity a disk carries inside: its filesystem UUID and, for ext4, the directory hash
/// seed, derived from what the disk is of.
///
/// ```
/// SHA-256("image-worker disk identity v1\n" + manifest digest + "\n" + format)
///   bytes  0..<16 → uuid      (version 4 and RFC 4122 variant bits set)
///   bytes 16..<32 → hashSeed  (same bits; mke2fs takes it as a UUID)
/// ```
///
/// Different images (or formats) get different UUIDs, so two disks attached to one VM and
/// `root=UUID=` never collide; a rebuild of the same manifest digest, in any data directory and
/// on any machine, gets the same UUID. Every disk writer takes its identity from here through
/// ``ExportOptions/identity``.
public struct DiskIdentity: Sendable, Equatable, Hashable {
    /// The filesystem UUID (ext4 `s_uuid`, erofs `uuid`).
    public var uuid: UUID
    /// The ext4 directory hash seed (`s_hash_seed`).
    public var hashSeed: UUID

    /// ``uuid`` as its 16 bytes, in the order an on-disk superblock stores them.
    public var uuidBytes: [UInt8] { withUnsafeBytes(of: uuid.uuid) { Array($0) } }

    /// An explicit identity.
    public init(uuid: UUID, hashSeed: UUID) {
        self.uuid = uuid
        self.hashSeed = hashSeed
    }

    /// The identity of the disk of `manifestDigest` in `format`.
    public init(manifestDigest: Digest, format: DiskFormat) {
        self.init(derivedFrom: "\(manifestDigest.description)\n\(format.rawValue)")
    }

    /// The identity of the per-layer disk (`erofs-layers`) of the layer whose uncompressed tar
    /// has `diffID`: shared by every image with that layer.
    public init(layerDiffID diffID: Digest) {
        self.init(derivedFrom: "layer\n\(diffID.description)")
    }

    /// The identity of a disk that has no manifest digest (`export-tree`): derived from `name`,
    /// such as the output file name.
    public init(name: String) {
        self.init(derivedFrom: "name\n\(name)")
    }

    private init(derivedFrom text: String) {
        let hex = Array(SHA256.digest(of: Data("image-worker disk identity v1\n\(text)".utf8)).encoded.utf8)
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        var index = 0
        while index + 1 < hex.count {
            bytes.append(Self.nibble(hex[index]) << 4 | Self.nibble(hex[index + 1]))
            index += 2
        }
        uuid = Self.uuid(bytes[0..<16])
        hashSeed = Self.uuid(bytes[16..<32])
    }

    private static func nibble(_ character: UInt8) -> UInt8 {
        character >= UInt8(ascii: "a") ? character - UInt8(ascii: "a") + 10 : character - UInt8(ascii: "0")
    }

    private static func uuid(_ slice: ArraySlice<UInt8>) -> UUID {
        var bytes = Array(slice)
        bytes[6] = (bytes[6] & 0x0f) | 0x40
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }
}
