/// Extent tree records (Documentation/filesystems/ext4/ifork.rst): a 12-byte header, then
/// 12-byte leaf extents (depth 0) or 12-byte index entries (depth > 0). The inode's `i_block`
/// holds a header and 4 records; a tree block holds a header and 340.
struct EXT4ExtentHeader: Equatable {
    static let size = 12
    static let magic: UInt16 = 0xF30A
    static let inodeCapacity = 4
    static let blockCapacity = (EXT4Geometry.blockSize - size) / EXT4Extent.size

    var entries: UInt16
    var max: UInt16
    var depth: UInt16

    func encode(into bytes: inout [UInt8], at offset: Int) {
        bytes.putLE16(EXT4ExtentHeader.magic, at: offset)
        bytes.putLE16(entries, at: offset + 2)
        bytes.putLE16(max, at: offset + 4)
        bytes.putLE16(depth, at: offset + 6)
        bytes.putLE32(0, at: offset + 8)  // eh_generation
    }
}

/// A leaf extent: `length` blocks (1…32,768, initialized) from logical `logical` at `physical`.
struct EXT4Extent: Equatable {
    static let size = 12

    var logical: UInt32
    var length: UInt16
    var physical: UInt64

    func encode(into bytes: inout [UInt8], at offset: Int) {
        bytes.putLE32(logical, at: offset)
        bytes.putLE16(length, at: offset + 4)
        bytes.putLE16(UInt16(truncatingIfNeeded: physical >> 32), at: offset + 6)
        bytes.putLE32(UInt32(truncatingIfNeeded: physical), at: offset + 8)
    }
}

/// An index entry: the subtree at block `leaf` covers logical blocks from `logical` on.
struct EXT4ExtentIndex: Equatable {
    static let size = 12

    var logical: UInt32
    var leaf: UInt64

    func encode(into bytes: inout [UInt8], at offset: Int) {
        bytes.putLE32(logical, at: offset)
        bytes.putLE32(UInt32(truncatingIfNeeded: leaf), at: offset + 4)
        bytes.putLE16(UInt16(truncatingIfNeeded: leaf >> 32), at: offset + 8)
        bytes.putLE16(0, at: offset + 10)
    }
}
