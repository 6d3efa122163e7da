/// The blocks of a linear directory: `.` and `..` first, then the entries in order, each block
/// filled until the next entry does not fit; the last entry of a block stretches to its end
/// (Documentation/filesystems/ext4/directory.rst, "Linear (Classic) Directories").
enum EXT4DirectoryBlocks {
    /// Blocks the directory needs (at least `minimum`).
    static func count(_ entries: [EXT4Tree.Entry], minimum: Int = 1) -> Int {
        let blockSize = EXT4Geometry.blockSize
        var blocks = 1
        var used = 2 * EXT4DirectoryEntry.minimumLength(nameLength: 2)
        for entry in entries {
            let length = EXT4DirectoryEntry.minimumLength(nameLength: entry.name.count)
            if used + length > blockSize {
                blocks += 1
                used = 0
            }
            used += length
        }
        return max(blocks, minimum)
    }

    /// The encoded blocks, `count(entries, minimum:)` of them, concatenated.
    static func encode(_ entries: [EXT4Tree.Entry], inode: UInt32, parent: UInt32, minimum: Int = 1) -> [UInt8] {
        let blockSize = EXT4Geometry.blockSize
        let blocks = count(entries, minimum: minimum)
        var bytes = [UInt8](repeating: 0, count: blocks * blockSize)
        var blockStart = 0
        var offset = 0
        var last = -1  // offset of the previous entry in this block
        func put(_ entry: EXT4DirectoryEntry) {
            let length = EXT4DirectoryEntry.minimumLength(nameLength: entry.name.count)
            if offset + length > blockStart + blockSize {
                stretch()
                blockStart += blockSize
                offset = blockStart
            }
            var record = entry
            record.recordLength = UInt16(length)
            record.encode(into: &bytes, at: offset)
            last = offset
            offset += length
        }
        func stretch() {
            guard last >= 0 else { return }
            bytes.putLE16(UInt16(blockStart + blockSize - last), at: last + 4)
            last = -1
        }
        put(EXT4DirectoryEntry(inode: inode, recordLength: 0, fileType: 2, name: [UInt8(ascii: ".")]))
        put(EXT4DirectoryEntry(inode: parent, recordLength: 0, fileType: 2, name: [UInt8(ascii: "."), UInt8(ascii: ".")]))
        for entry in entries {
            put(EXT4DirectoryEntry(inode: entry.inode, recordLength: 0, fileType: entry.fileType, name: entry.name))
        }
        stretch()
        // Blocks past the last entry (lost+found's spare blocks) hold one empty entry each.
        var spare = blockStart + blockSize
        while spare < bytes.count {
            bytes.putLE16(UInt16(blockSize), at: spare + 4)
            spare += blockSize
        }
        return bytes
    }
}
