/// The erofs superblock (`struct erofs_super_block`, 128 bytes at byte 1024), only the fields
/// this writer sets. Offsets follow fs/erofs/erofs_fs.h; no checksum (`SB_CHKSUM` stays off).
struct EROFSSuperblock: Equatable {
    static let size = 128
    static let magic: UInt32 = 0xE0F5_E1E2

    // feature_incompat
    /// `EROFS_FEATURE_INCOMPAT_ZERO_PADDING` (LZ4_0PADDING): compressed data is right-aligned in its block.
    static let incompatZeroPadding: UInt32 = 0x0000_0001
    /// `EROFS_FEATURE_INCOMPAT_CHUNKED_FILE`: chunk-based files (sparse files here).
    static let incompatChunkedFile: UInt32 = 0x0000_0004

    var featureIncompat: UInt32 = 0
    var rootNid: UInt16 = 0
    var inodeCount: UInt64 = 0
    var buildTime: Timestamp = .epoch
    var blocks: UInt32 = 0
    var metaBlockAddress: UInt32 = 0
    var uuid: [UInt8] = Array(repeating: 0, count: 16)
    var volumeName: [UInt8] = []
    /// `u1.lz4_max_distance` (without COMPR_CFGS): 0 means the LZ4 default window of 64 KiB.
    var lz4MaxDistance: UInt16 = 0

    /// The 128 encoded bytes.
    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: EROFSSuperblock.size)
        bytes.putLE32(EROFSSuperblock.magic, at: 0)
        bytes.putLE32(0, at: 4)  // checksum
        bytes.putLE32(0, at: 8)  // feature_compat
        bytes[12] = UInt8(EROFSGeometry.blockShift)  // blkszbits
        bytes[13] = 0  // sb_extslots
        bytes.putLE16(rootNid, at: 14)
        bytes.putLE64(inodeCount, at: 16)
        bytes.putLE64(UInt64(bitPattern: buildTime.seconds), at: 24)
        bytes.putLE32(buildTime.nanoseconds, at: 32)
        bytes.putLE32(blocks, at: 36)
        bytes.putLE32(metaBlockAddress, at: 40)
        bytes.putLE32(0, at: 44)  // xattr_blkaddr: no shared xattrs
        bytes.putBytes(uuid.prefix(16), at: 48)
        bytes.putBytes(volumeName.prefix(16), at: 64)
        bytes.putLE32(featureIncompat, at: 80)
        bytes.putLE16(lz4MaxDistance, at: 84)
        return bytes
    }
}
