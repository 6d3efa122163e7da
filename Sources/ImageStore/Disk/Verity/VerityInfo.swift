/// What a VM platform needs to open a disk through dm-verity: recorded with the artifact
/// (`artifacts.verity_root_hash`, `verity_salt`, `verity_hash_offset`) and shown in
/// `image_status`.
public struct VerityInfo: Sendable, Equatable, Hashable {
    /// SHA-256 root of the hash tree, lowercase hex (64 digits): the value to trust.
    public var rootHash: String
    /// The salt, lowercase hex.
    public var salt: String
    /// Byte offset of the veritysetup superblock, which is also the size of the filesystem
    /// area (a multiple of 4096): `veritysetup --hash-offset`.
    public var hashOffset: UInt64
    /// 4 KiB blocks of the filesystem area (`hashOffset / 4096`).
    public var dataBlocks: UInt64

    /// Collects the figures of one tree.
    public init(rootHash: String, salt: String, hashOffset: UInt64, dataBlocks: UInt64) {
        self.rootHash = rootHash
        self.salt = salt
        self.hashOffset = hashOffset
        self.dataBlocks = dataBlocks
    }

    /// The dm table's `<hash_start_block>`: the first tree block, just after the superblock.
    public var hashStartBlock: UInt64 { hashOffset / UInt64(Verity.blockSize) + 1 }

    /// A `dmsetup create NAME --readonly --table '…'` line for the disk at `dataDevice` (with
    /// the tree in the same file, `hashDevice` is the same device), mapping the filesystem area
    /// in 512-byte sectors.
    public func kernelTable(dataDevice: String, hashDevice: String? = nil) -> String {
        let sectors = dataBlocks * UInt64(Verity.blockSize / 512)
        return "0 \(sectors) verity 1 \(dataDevice) \(hashDevice ?? dataDevice) \(Verity.blockSize) "
            + "\(Verity.blockSize) \(dataBlocks) \(hashStartBlock) sha256 \(rootHash) \(salt)"
    }
}
