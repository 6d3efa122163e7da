import Foundation

/// What makes one ext4 image differ from another besides its files: identity and fixed times.
///
/// The caller derives ``uuid`` and ``hashSeed`` from the manifest digest, so the same image
/// gives the same bytes; no field is ever taken from the clock.
public struct EXT4WriterOptions: Sendable, Equatable {
    /// `s_uuid`: 16 bytes.
    public var uuid: [UInt8]
    /// `s_hash_seed`: 16 bytes (directory hashing; kept for tools even with linear directories).
    public var hashSeed: [UInt8]
    /// `s_volume_name`: up to 16 bytes.
    public var volumeName: [UInt8]
    /// The superblock's mkfs, write and check times (seconds since the epoch); 0 by default.
    public var time: UInt32

    public init(uuid: [UInt8], hashSeed: [UInt8], volumeName: [UInt8] = [], time: UInt32 = 0) {
        self.uuid = uuid
        self.hashSeed = hashSeed
        self.volumeName = volumeName
        self.time = time
    }
}

extension EXT4WriterOptions {
    /// Options carrying `identity`'s UUID and hash seed, with the fixed defaults for the rest.
    public init(identity: DiskIdentity) {
        self.init(uuid: EXT4WriterOptions.bytes(identity.uuid), hashSeed: EXT4WriterOptions.bytes(identity.hashSeed))
    }

    private static func bytes(_ uuid: UUID) -> [UInt8] {
        withUnsafeBytes(of: uuid.uuid) { Array($0) }
    }
}
