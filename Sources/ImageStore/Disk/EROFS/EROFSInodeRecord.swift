/// One erofs inode as stored: compact (`struct erofs_inode_compact`, 32 bytes) or extended
/// (`struct erofs_inode_extended`, 64 bytes), fs/erofs/erofs_fs.h.
///
/// A compact inode has 16-bit owners and link count, a 32-bit size and no time of its own
/// (the kernel gives it the superblock's build time); ``needsExtended(mtime:buildTime:)``
/// says when a file needs the extended form.
struct EROFSInodeRecord: Equatable {
    static let compactSize = 32
    static let extendedSize = 64

    /// `i_format` bits 1…3.
    enum DataLayout: UInt16 {
        case flatPlain = 0
        case compressedFull = 1
        case flatInline = 2
        case compressedCompact = 3
        case chunkBased = 4
    }

    var extended = false
    var layout: DataLayout = .flatPlain
    /// `i_xattr_icount`: 0 without xattrs, else 1 + (xattr body size - 12) / 4.
    var xattrCount: UInt16 = 0
    var mode: UInt16 = 0
    var linkCount: UInt32 = 1
    var size: UInt64 = 0
    /// `i_u`: raw_blkaddr, compressed_blocks, rdev or chunk_info, by layout and kind.
    var union: UInt32 = 0
    var number: UInt32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    var mtime: Timestamp = .epoch

    var encodedSize: Int { extended ? EROFSInodeRecord.extendedSize : EROFSInodeRecord.compactSize }

    /// Whether an inode with these values cannot be compact.
    static func needsExtended(uid: UInt32, gid: UInt32, links: UInt32, size: UInt64, mtime: Timestamp, buildTime: Timestamp) -> Bool {
        uid > 0xFFFF || gid > 0xFFFF || links > 0xFFFF || size > UInt64(UInt32.max) || mtime != buildTime
    }

    /// The encoded bytes (32 or 64).
    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: encodedSize)
        bytes.putLE16((extended ? 1 : 0) | layout.rawValue << 1, at: 0)
        bytes.putLE16(xattrCount, at: 2)
        bytes.putLE16(mode, at: 4)
        bytes.putLE32(union, at: 16)
        bytes.putLE32(number, at: 20)
        if extended {
            bytes.putLE64(size, at: 8)
            bytes.putLE32(uid, at: 24)
            bytes.putLE32(gid, at: 28)
            bytes.putLE64(UInt64(bitPattern: mtime.seconds), at: 32)
            bytes.putLE32(mtime.nanoseconds, at: 40)
            bytes.putLE32(linkCount, at: 44)
        } else {
            bytes.putLE16(UInt16(truncatingIfNeeded: linkCount), at: 6)
            bytes.putLE32(UInt32(truncatingIfNeeded: size), at: 8)
            bytes.putLE16(UInt16(truncatingIfNeeded: uid), at: 24)
            bytes.putLE16(UInt16(truncatingIfNeeded: gid), at: 26)
        }
        return bytes
    }

    /// `new_encode_dev`: the 32-bit device number of `i_u.rdev` (major < 4096, minor < 2^20).
    static func encodeDevice(major: UInt32, minor: UInt32) -> UInt32 {
        (minor & 0xFF) | (major << 8) | ((minor & ~0xFF) << 12)
    }
}
