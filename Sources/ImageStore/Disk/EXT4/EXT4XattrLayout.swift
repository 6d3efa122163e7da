/// Where an inode's attributes go: the in-inode region first (92 bytes after its magic), the
/// rest in one xattr block (Documentation/filesystems/ext4/attributes.rst); the layout shares
/// identical blocks among inodes and sets `h_refcount`.
///
/// Entries are sorted (index, name length, name) in both places, values packed from the end
/// of the region downward, each 4-byte aligned; a zero word ends the entry list.
struct EXT4XattrLayout: Equatable {
    static let magic: UInt32 = 0xEA02_0000
    static let blockHeaderSize = 32

    /// The in-inode region (magic included), or empty.
    var inline: [UInt8] = []
    /// The xattr block, or `nil`.
    var block: [UInt8]?

    enum Failure: Error, Equatable {
        case problem(String, EXT4XattrProblem)
        case tooLarge(bytes: Int)
    }

    init(_ xattrs: [Xattr]) throws(Failure) {
        guard !xattrs.isEmpty else { return }
        var entries: [EXT4XattrEntry] = []
        for xattr in xattrs {
            switch EXT4XattrEntry.make(xattr) {
            case .success(let entry): entries.append(entry)
            case .failure(let problem): throw .problem(xattr.name, problem)
            }
        }
        entries.sort(by: EXT4XattrEntry.precedes)
        let inlineSpace = EXT4InodeRecord.inlineXattrCapacity - 4 - 4  // magic, terminator
        let blockSpace = EXT4Geometry.blockSize - EXT4XattrLayout.blockHeaderSize - 4
        var inlineEntries: [EXT4XattrEntry] = []
        var blockEntries: [EXT4XattrEntry] = []
        var inlineUsed = 0
        var blockUsed = 0
        for entry in entries {
            let need = entry.entryLength + entry.valueLength
            if inlineUsed + need <= inlineSpace {
                inlineEntries.append(entry)
                inlineUsed += need
            } else {
                blockEntries.append(entry)
                blockUsed += need
            }
        }
        guard blockUsed <= blockSpace else { throw .tooLarge(bytes: inlineUsed + blockUsed) }
        if !inlineEntries.isEmpty {
            var region = [UInt8](repeating: 0, count: EXT4InodeRecord.inlineXattrCapacity)
            region.putLE32(EXT4XattrLayout.magic, at: 0)
            EXT4XattrLayout.place(inlineEntries, into: &region, entriesAt: 4, valueBase: 4)
            inline = region
        }
        if !blockEntries.isEmpty {
            var bytes = [UInt8](repeating: 0, count: EXT4Geometry.blockSize)
            bytes.putLE32(EXT4XattrLayout.magic, at: 0)
            bytes.putLE32(1, at: 4)  // h_refcount
            bytes.putLE32(1, at: 8)  // h_blocks
            var hash: UInt32 = 0
            for entry in blockEntries { hash = (hash << 16) ^ (hash >> 16) ^ entry.hash }
            bytes.putLE32(hash, at: 12)
            EXT4XattrLayout.place(blockEntries, into: &bytes, entriesAt: EXT4XattrLayout.blockHeaderSize, valueBase: 0)
            block = bytes
        }
    }

    /// Entries from `entriesAt` upward, values from the end downward; offsets count from `valueBase`.
    private static func place(_ entries: [EXT4XattrEntry], into bytes: inout [UInt8], entriesAt: Int, valueBase: Int) {
        var entryOffset = entriesAt
        var valueEnd = bytes.count
        for entry in entries {
            var valueOffset = 0
            if !entry.value.isEmpty {
                valueEnd -= entry.valueLength
                bytes.putBytes(entry.value, at: valueEnd)
                valueOffset = valueEnd - valueBase
            }
            entry.encode(into: &bytes, at: entryOffset, valueOffset: valueOffset)
            entryOffset += entry.entryLength
        }
    }
}
