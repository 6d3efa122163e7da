/// The constants of the erofs layout this writer produces (Documentation/filesystems/erofs.rst,
/// fs/erofs/erofs_fs.h): 4 KiB blocks (the page size the kernel needs), the superblock at byte
/// 1024 of block 0, inodes addressed in 32-byte slots from the metadata block.
enum EROFSGeometry {
    static let blockSize = 4096
    static let blockShift: UInt64 = 12
    static let superblockOffset = 1024
    /// An inode number (nid) counts 32-byte slots from `meta_blkaddr`.
    static let slotSize = 32
    /// `EROFS_NULL_ADDR`: an unmapped chunk (a hole).
    static let nullAddress: UInt32 = 0xFFFF_FFFF
    /// `EROFS_NAME_LEN`.
    static let maxNameLength = 255
    /// A chunk-based file gets chunks large enough for at most this many chunk entries, so a
    /// huge sparse file costs at most 256 KiB of metadata.
    static let maxChunkEntries: UInt64 = 1 << 16
    /// Block addresses are 32 bits: the image holds at most 2^32 - 1 blocks (16 TiB).
    static let maxBlocks: UInt64 = UInt64(UInt32.max) - 1

    /// Blocks needed for `bytes`.
    static func blocks(_ bytes: Int64) -> UInt64 {
        (UInt64(bytes) + UInt64(blockSize) - 1) >> blockShift
    }
}
