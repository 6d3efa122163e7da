/// Directory content as erofs stores it (`struct erofs_dirent`, 12 bytes: nid le64, nameoff
/// le16, file_type, reserved): each 4 KiB block holds its dirents, then their names, unpadded
/// and not NUL-terminated; the first dirent's `nameoff` gives the block's entry count. Entries
/// are sorted by name across blocks (the kernel binary-searches blocks, then names), `.` and
/// `..` sorted among them. Only the last block may be short; the directory's size ends there.
enum EROFSDirectoryBlocks {
    static let direntSize = 12

    struct Entry {
        var name: [UInt8]
        /// Index of the target in the writer's inode order (resolved to a nid when encoding).
        var target: Int
        var fileType: UInt8
    }

    /// `EROFS_FT_*`.
    static func fileType(_ kind: InodeKind) -> UInt8 {
        switch kind {
        case .regular: return 1
        case .directory: return 2
        case .characterDevice: return 3
        case .blockDevice: return 4
        case .fifo: return 5
        case .socket: return 6
        case .symlink: return 7
        }
    }

    /// The entry count of each block, greedily filled, for `entries` (already sorted).
    static func split(_ entries: [Entry]) -> [Int] {
        var counts: [Int] = []
        var used = 0
        var count = 0
        for entry in entries {
            let need = direntSize + entry.name.count
            if count > 0 && used + need > EROFSGeometry.blockSize {
                counts.append(count)
                used = 0
                count = 0
            }
            used += need
            count += 1
        }
        if count > 0 { counts.append(count) }
        return counts
    }

    /// The directory's size in bytes: full blocks, then the used bytes of the last one.
    static func size(_ entries: [Entry], split counts: [Int]) -> Int64 {
        guard let lastCount = counts.last else { return 0 }
        var last = 0
        for entry in entries.suffix(lastCount) { last += direntSize + entry.name.count }
        return Int64(counts.count - 1) * Int64(EROFSGeometry.blockSize) + Int64(last)
    }

    /// The encoded content (exactly `size` bytes), with `nid(target)` for each entry.
    static func encode(_ entries: [Entry], split counts: [Int], nid: (Int) -> UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(counts.count * EROFSGeometry.blockSize)
        var index = 0
        for (blockIndex, count) in counts.enumerated() {
            let slice = entries[index..<(index + count)]
            var block = [UInt8](repeating: 0, count: EROFSGeometry.blockSize)
            var nameOffset = count * direntSize
            var at = 0
            for entry in slice {
                block.putLE64(nid(entry.target), at: at)
                block.putLE16(UInt16(nameOffset), at: at + 8)
                block[at + 10] = entry.fileType
                block.putBytes(entry.name, at: nameOffset)
                nameOffset += entry.name.count
                at += direntSize
            }
            if blockIndex == counts.count - 1 {
                bytes.append(contentsOf: block.prefix(nameOffset))
            } else {
                bytes.append(contentsOf: block)
            }
            index += count
        }
        return bytes
    }
}
