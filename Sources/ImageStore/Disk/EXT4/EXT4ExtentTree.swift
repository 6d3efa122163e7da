/// Builds the extent tree of one inode from its extents and the tree blocks set aside for it
/// (``EXT4Layout/treeBlocks(extents:)`` of them): up to 4 extents in `i_block`, else leaf
/// blocks of 340 extents under as many index levels as it takes to get down to 4 roots.
enum EXT4ExtentTree {
    struct Built {
        /// The 60 bytes of `i_block`.
        var root: [UInt8]
        /// Tree blocks to write: block number and contents.
        var blocks: [(block: UInt64, bytes: [UInt8])]
    }

    static func build(_ extents: [EXT4Extent], treeBlocks: [UInt64]) -> Built {
        var root = [UInt8](repeating: 0, count: 60)
        if extents.count <= EXT4ExtentHeader.inodeCapacity {
            EXT4ExtentHeader(entries: UInt16(extents.count), max: UInt16(EXT4ExtentHeader.inodeCapacity), depth: 0)
                .encode(into: &root, at: 0)
            for (index, extent) in extents.enumerated() {
                extent.encode(into: &root, at: EXT4ExtentHeader.size + index * EXT4Extent.size)
            }
            return Built(root: root, blocks: [])
        }
        var written: [(block: UInt64, bytes: [UInt8])] = []
        var nextTreeBlock = 0
        let capacity = EXT4ExtentHeader.blockCapacity
        // Leaves.
        var level: [EXT4ExtentIndex] = []
        for start in stride(from: 0, to: extents.count, by: capacity) {
            let slice = extents[start..<min(start + capacity, extents.count)]
            var bytes = [UInt8](repeating: 0, count: EXT4Geometry.blockSize)
            EXT4ExtentHeader(entries: UInt16(slice.count), max: UInt16(capacity), depth: 0).encode(into: &bytes, at: 0)
            for (index, extent) in slice.enumerated() {
                extent.encode(into: &bytes, at: EXT4ExtentHeader.size + index * EXT4Extent.size)
            }
            let block = treeBlocks[nextTreeBlock]
            nextTreeBlock += 1
            written.append((block, bytes))
            level.append(EXT4ExtentIndex(logical: slice[slice.startIndex].logical, leaf: block))
        }
        // Index levels.
        var depth: UInt16 = 1
        while level.count > EXT4ExtentHeader.inodeCapacity {
            var upper: [EXT4ExtentIndex] = []
            for start in stride(from: 0, to: level.count, by: capacity) {
                let slice = level[start..<min(start + capacity, level.count)]
                var bytes = [UInt8](repeating: 0, count: EXT4Geometry.blockSize)
                EXT4ExtentHeader(entries: UInt16(slice.count), max: UInt16(capacity), depth: depth).encode(into: &bytes, at: 0)
                for (index, entry) in slice.enumerated() {
                    entry.encode(into: &bytes, at: EXT4ExtentHeader.size + index * EXT4ExtentIndex.size)
                }
                let block = treeBlocks[nextTreeBlock]
                nextTreeBlock += 1
                written.append((block, bytes))
                upper.append(EXT4ExtentIndex(logical: slice[slice.startIndex].logical, leaf: block))
            }
            level = upper
            depth += 1
        }
        EXT4ExtentHeader(entries: UInt16(level.count), max: UInt16(EXT4ExtentHeader.inodeCapacity), depth: depth)
            .encode(into: &root, at: 0)
        for (index, entry) in level.enumerated() {
            entry.encode(into: &root, at: EXT4ExtentHeader.size + index * EXT4ExtentIndex.size)
        }
        return Built(root: root, blocks: written)
    }
}
