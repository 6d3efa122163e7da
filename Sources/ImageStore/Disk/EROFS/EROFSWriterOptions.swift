/// What makes one erofs image differ from another besides its files: identity, build time and
/// compression. No field is ever taken from the clock.
public struct EROFSWriterOptions: Sendable, Equatable {
    /// How regular file data is stored.
    public enum Compression: Sendable, Equatable {
        /// Plain blocks, the last partial block inline after the inode.
        case none
        /// LZ4 (liblz4's fast compressor).
        case lz4
        /// LZ4HC at `level` 1…12 (liblz4's high-compression mode; mkfs.erofs's default is 9).
        case lz4hc(level: Int)
    }

    /// The filesystem UUID: 16 bytes (``DiskIdentity/uuid``).
    public var uuid: [UInt8]
    /// `volume_name`: up to 16 bytes.
    public var volumeName: [UInt8]
    /// The superblock's build time, which is also the mtime of every compact inode. `nil` takes
    /// the most common mtime of the model, so most inodes can be compact.
    public var buildTime: Timestamp?
    public var compression: Compression

    public init(uuid: [UInt8], volumeName: [UInt8] = [], buildTime: Timestamp? = nil, compression: Compression = .none) {
        self.uuid = uuid
        self.volumeName = volumeName
        self.buildTime = buildTime
        self.compression = compression
    }
}
