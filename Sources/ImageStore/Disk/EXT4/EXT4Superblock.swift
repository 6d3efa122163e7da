/// The ext4 superblock (`struct ext4_super_block`, 1024 bytes), only the fields this writer sets.
///
/// Offsets follow Documentation/filesystems/ext4/super.rst. The primary copy lives at byte 1024
/// of block 0; copies in `sparse_super` groups at byte 0 of the group's first block, with
/// ``blockGroupNumber`` set to the group. Times are fixed by the writer's options, never the clock.
struct EXT4Superblock: Equatable {
    static let size = 1024
    static let magic: UInt16 = 0xEF53

    // s_feature_compat
    static let compatExtAttr: UInt32 = 0x0008
    // s_feature_incompat
    static let incompatFiletype: UInt32 = 0x0002
    static let incompatExtents: UInt32 = 0x0040
    static let incompatFlexBG: UInt32 = 0x0200
    // s_feature_ro_compat
    static let roCompatSparseSuper: UInt32 = 0x0001
    static let roCompatLargeFile: UInt32 = 0x0002
    static let roCompatHugeFile: UInt32 = 0x0008
    static let roCompatDirNlink: UInt32 = 0x0020
    static let roCompatExtraIsize: UInt32 = 0x0040

    var inodesCount: UInt32 = 0
    var blocksCount: UInt64 = 0
    var freeBlocksCount: UInt64 = 0
    var freeInodesCount: UInt32 = 0
    var firstDataBlock: UInt32 = 0
    var logBlockSize: UInt32 = 2
    var blocksPerGroup: UInt32 = 32768
    var inodesPerGroup: UInt32 = 0
    var mountTime: UInt32 = 0
    var writeTime: UInt32 = 0
    var maxMountCount: UInt16 = 0xFFFF
    var state: UInt16 = 1  // cleanly unmounted
    var errors: UInt16 = 1  // continue
    var lastCheck: UInt32 = 0
    var revLevel: UInt32 = 1  // dynamic inode sizes
    var firstInode: UInt32 = EXT4Geometry.firstInode
    var inodeSize: UInt16 = UInt16(EXT4Geometry.inodeSize)
    var blockGroupNumber: UInt16 = 0
    var featureCompat: UInt32 = 0
    var featureIncompat: UInt32 = 0
    var featureRoCompat: UInt32 = 0
    var uuid: [UInt8] = Array(repeating: 0, count: 16)
    var volumeName: [UInt8] = []
    var hashSeed: [UInt8] = Array(repeating: 0, count: 16)
    var defaultHashVersion: UInt8 = 1  // half_md4
    var mkfsTime: UInt32 = 0
    var minExtraIsize: UInt16 = UInt16(EXT4Geometry.extraInodeSize)
    var wantExtraIsize: UInt16 = UInt16(EXT4Geometry.extraInodeSize)
    var flags: UInt32 = 0x0002  // unsigned directory hash
    var logGroupsPerFlex: UInt8 = 4

    /// The 1024 encoded bytes.
    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: EXT4Superblock.size)
        bytes.putLE32(inodesCount, at: 0x00)
        bytes.putLE32(UInt32(truncatingIfNeeded: blocksCount), at: 0x04)
        bytes.putLE32(UInt32(truncatingIfNeeded: freeBlocksCount), at: 0x0C)
        bytes.putLE32(freeInodesCount, at: 0x10)
        bytes.putLE32(firstDataBlock, at: 0x14)
        bytes.putLE32(logBlockSize, at: 0x18)
        bytes.putLE32(logBlockSize, at: 0x1C)  // s_log_cluster_size: no bigalloc
        bytes.putLE32(blocksPerGroup, at: 0x20)
        bytes.putLE32(blocksPerGroup, at: 0x24)  // s_clusters_per_group
        bytes.putLE32(inodesPerGroup, at: 0x28)
        bytes.putLE32(mountTime, at: 0x2C)
        bytes.putLE32(writeTime, at: 0x30)
        bytes.putLE16(maxMountCount, at: 0x36)
        bytes.putLE16(EXT4Superblock.magic, at: 0x38)
        bytes.putLE16(state, at: 0x3A)
        bytes.putLE16(errors, at: 0x3C)
        bytes.putLE32(lastCheck, at: 0x40)
        bytes.putLE32(revLevel, at: 0x4C)
        bytes.putLE32(firstInode, at: 0x54)
        bytes.putLE16(inodeSize, at: 0x58)
        bytes.putLE16(blockGroupNumber, at: 0x5A)
        bytes.putLE32(featureCompat, at: 0x5C)
        bytes.putLE32(featureIncompat, at: 0x60)
        bytes.putLE32(featureRoCompat, at: 0x64)
        bytes.putBytes(uuid.prefix(16), at: 0x68)
        bytes.putBytes(volumeName.prefix(16), at: 0x78)
        bytes.putBytes(hashSeed.prefix(16), at: 0xEC)
        bytes[0xFC] = defaultHashVersion
        bytes.putLE32(mkfsTime, at: 0x108)
        bytes.putLE32(UInt32(truncatingIfNeeded: blocksCount >> 32), at: 0x150)
        bytes.putLE32(UInt32(truncatingIfNeeded: freeBlocksCount >> 32), at: 0x158)
        bytes.putLE16(minExtraIsize, at: 0x15C)
        bytes.putLE16(wantExtraIsize, at: 0x15E)
        bytes.putLE32(flags, at: 0x160)
        bytes[0x174] = logGroupsPerFlex
        return bytes
    }
}
