/// One block group descriptor (`struct ext4_group_desc`, 32 bytes without `64bit`).
///
/// Offsets follow Documentation/filesystems/ext4/group_descr.rst. No checksums and no
/// `*_UNINIT` flags: neither `gdt_csum` nor `metadata_csum` is advertised.
struct EXT4GroupDescriptor: Equatable {
    static let size = EXT4Geometry.descriptorSize

    var blockBitmap: UInt32 = 0
    var inodeBitmap: UInt32 = 0
    var inodeTable: UInt32 = 0
    var freeBlocksCount: UInt16 = 0
    var freeInodesCount: UInt16 = 0
    var usedDirsCount: UInt16 = 0

    /// Writes the 32 bytes at `offset` of `bytes`.
    func encode(into bytes: inout [UInt8], at offset: Int) {
        bytes.putLE32(blockBitmap, at: offset + 0x00)
        bytes.putLE32(inodeBitmap, at: offset + 0x04)
        bytes.putLE32(inodeTable, at: offset + 0x08)
        bytes.putLE16(freeBlocksCount, at: offset + 0x0C)
        bytes.putLE16(freeInodesCount, at: offset + 0x0E)
        bytes.putLE16(usedDirsCount, at: offset + 0x10)
    }
}
