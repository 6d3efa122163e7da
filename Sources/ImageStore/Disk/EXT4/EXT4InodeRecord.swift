/// One on-disk inode (`struct ext4_inode`, 256 bytes with 32 bytes of extra fields), the
/// fields this writer sets; offsets follow Documentation/filesystems/ext4/inodes.rst.
///
/// ```
/// 0x00 mode  0x02 uid_lo  0x04 size_lo  0x08 atime  0x0C ctime  0x10 mtime  0x18 gid_lo
/// 0x1A links  0x1C blocks_lo  0x20 flags  0x28 i_block[60]  0x68 file_acl_lo  0x6C size_hi
/// 0x74 blocks_hi  0x76 file_acl_hi  0x78 uid_hi  0x7A gid_hi  0x80 extra_isize
/// 0x84 ctime_extra  0x88 mtime_extra  0x8C atime_extra  0x90 crtime  0x94 crtime_extra
/// 0xA0… in-inode xattrs (magic, entries, values) up to 0x100
/// ```
struct EXT4InodeRecord: Equatable {
    static let size = EXT4Geometry.inodeSize
    static let inlineXattrOffset = 128 + EXT4Geometry.extraInodeSize
    static let inlineXattrCapacity = size - inlineXattrOffset

    static let extentsFlag: UInt32 = 0x0008_0000

    var mode: UInt16 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    var size: UInt64 = 0
    var time = EXT4Time(.epoch)
    var linksCount: UInt16 = 0
    /// `i_blocks` in 512-byte units (48 bits with `huge_file`).
    var sectors: UInt64 = 0
    var flags: UInt32 = 0
    /// `i_block`: extent tree root, fast symlink target or device number (60 bytes).
    var block: [UInt8] = Array(repeating: 0, count: 60)
    var xattrBlock: UInt64 = 0
    /// The in-inode xattr region (magic included), at most ``inlineXattrCapacity`` bytes.
    var inlineXattrs: [UInt8] = []

    func encode(into bytes: inout [UInt8], at offset: Int) {
        bytes.putLE16(mode, at: offset + 0x00)
        bytes.putLE16(UInt16(truncatingIfNeeded: uid), at: offset + 0x02)
        bytes.putLE32(UInt32(truncatingIfNeeded: size), at: offset + 0x04)
        bytes.putLE32(time.seconds, at: offset + 0x08)
        bytes.putLE32(time.seconds, at: offset + 0x0C)
        bytes.putLE32(time.seconds, at: offset + 0x10)
        bytes.putLE16(UInt16(truncatingIfNeeded: gid), at: offset + 0x18)
        bytes.putLE16(linksCount, at: offset + 0x1A)
        bytes.putLE32(UInt32(truncatingIfNeeded: sectors), at: offset + 0x1C)
        bytes.putLE32(flags, at: offset + 0x20)
        bytes.putBytes(block.prefix(60), at: offset + 0x28)
        bytes.putLE32(UInt32(truncatingIfNeeded: xattrBlock), at: offset + 0x68)
        bytes.putLE32(UInt32(truncatingIfNeeded: size >> 32), at: offset + 0x6C)
        bytes.putLE16(UInt16(truncatingIfNeeded: sectors >> 32), at: offset + 0x74)
        bytes.putLE16(UInt16(truncatingIfNeeded: xattrBlock >> 32), at: offset + 0x76)
        bytes.putLE16(UInt16(truncatingIfNeeded: uid >> 16), at: offset + 0x78)
        bytes.putLE16(UInt16(truncatingIfNeeded: gid >> 16), at: offset + 0x7A)
        bytes.putLE16(UInt16(EXT4Geometry.extraInodeSize), at: offset + 0x80)
        bytes.putLE32(time.extra, at: offset + 0x84)
        bytes.putLE32(time.extra, at: offset + 0x88)
        bytes.putLE32(time.extra, at: offset + 0x8C)
        bytes.putLE32(time.seconds, at: offset + 0x90)
        bytes.putLE32(time.extra, at: offset + 0x94)
        bytes.putBytes(inlineXattrs.prefix(EXT4InodeRecord.inlineXattrCapacity), at: offset + EXT4InodeRecord.inlineXattrOffset)
    }
}
