/// Where each level of a dm-verity hash tree lies, for a given number of data blocks.
///
/// The kernel's rule (verity.rst, and `verity_ctr`): the tree has the fewest levels such that
/// `(dataBlocks - 1) >> (7 × levels) == 0`; level i has `((dataBlocks - 1) >> (7 × (i + 1))) + 1`
/// blocks; the top level comes first after the superblock, level 0 last.
struct VerityGeometry: Equatable {
    /// Data blocks covered (at least 1).
    let dataBlocks: UInt64
    /// Blocks of each level, index 0 = the hashes of the data blocks.
    let levelBlocks: [UInt64]
    /// First block of each level, counted from the first block after the superblock.
    let levelStart: [UInt64]

    init(dataBlocks: UInt64) {
        precondition(dataBlocks > 0, "a verity tree covers at least one block")
        self.dataBlocks = dataBlocks
        var levels = 0
        while UInt64(levels) * Verity.hashesPerBlockShift < 64,
            (dataBlocks - 1) >> (UInt64(levels) * Verity.hashesPerBlockShift) != 0
        {
            levels += 1
        }
        levelBlocks = (0..<levels).map { level in
            let shift = UInt64(level + 1) * Verity.hashesPerBlockShift
            return shift >= 64 ? 1 : ((dataBlocks - 1) >> shift) + 1
        }
        var starts = [UInt64](repeating: 0, count: levels)
        var position: UInt64 = 0
        for level in stride(from: levels - 1, through: 0, by: -1) {
            starts[level] = position
            position += levelBlocks[level]
        }
        levelStart = starts
    }

    /// Hash blocks of every level together (the superblock not counted).
    var treeBlocks: UInt64 { levelBlocks.reduce(0, +) }
}
