/// Which blocks of the image are in use: the source of the block bitmaps and free counts.
/// Marking a block twice means two structures claim it, which the writer refuses.
struct EXT4UsedBlocks {
    private(set) var words: [UInt64]
    let blocks: UInt64

    init(blocks: UInt64) {
        self.blocks = blocks
        words = Array(repeating: 0, count: Int((blocks + 63) / 64))
    }

    mutating func mark(_ start: UInt64, count: UInt64) throws(DiskError) {
        guard start + count <= blocks else {
            throw .inconsistentModel(reason: "block \(start + count - 1) beyond the end of the image (\(blocks) blocks)")
        }
        for block in start..<(start + count) {
            let word = Int(block / 64), bit = UInt64(1) << (block % 64)
            guard words[word] & bit == 0 else { throw .inconsistentModel(reason: "block \(block) is claimed twice") }
            words[word] |= bit
        }
    }

    /// The block bitmap of `group` (one block; bits past the end of the image set, as e2fsck expects).
    func bitmap(group: UInt64) -> (bytes: [UInt8], used: Int) {
        let perGroup = EXT4Geometry.blocksPerGroup
        var bytes = [UInt8](repeating: 0, count: EXT4Geometry.blockSize)
        var used = 0
        let firstWord = Int(group * perGroup / 64)
        for index in 0..<Int(perGroup / 64) {
            let word = firstWord + index < words.count ? words[firstWord + index] : 0
            used += word.nonzeroBitCount
            bytes.putLE64(word, at: index * 8)
        }
        let inGroup = min(perGroup, blocks - group * perGroup)
        for bit in inGroup..<perGroup { bytes[Int(bit / 8)] |= UInt8(1) << (bit % 8) }
        return (bytes, used)
    }
}
