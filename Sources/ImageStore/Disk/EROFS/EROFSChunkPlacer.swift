/// Where the chunks of one file go while it streams (see ``EROFSDataSink``): one chunk of
/// `2^chunkBits` blocks at a time, placed after the previous one in the file's region.
struct EROFSChunkPlacer {
    var allocator: EROFSBlockAllocator
    let chunkBits: UInt8
    let chunkBlocks: UInt64
    let totalBlocks: UInt64
    /// The free run the file was placed in, and how much of it is used.
    private var region: EROFSBlockAllocator.Run?
    private var regionUsed: UInt64 = 0
    /// First block of each placed chunk, by chunk index, in increasing chunk order.
    private var placed: [(chunk: UInt64, block: UInt64)] = []
    private var runs: [EROFSBlockAllocator.Run] = []

    init(size: Int64, allocator: EROFSBlockAllocator) throws(DiskError) {
        self.allocator = allocator
        totalBlocks = EROFSGeometry.blocks(size)
        var bits: UInt8 = 0
        while (totalBlocks + (UInt64(1) << bits) - 1) >> bits > EROFSGeometry.maxChunkEntries { bits += 1 }
        chunkBits = bits
        chunkBlocks = UInt64(1) << bits
        region = self.allocator.takeFree(atLeast: totalBlocks)
    }

    /// The first block of the file, if any chunk was placed.
    var firstBlock: UInt64? { placed.first?.block }

    /// Writes `bytes` (whole blocks, or one short block padded) at logical block `logical` on.
    mutating func write(_ bytes: UnsafeRawBufferPointer, at logical: UInt64, file: EXT4BlockFile) throws(DiskError) {
        var logical = logical
        var offset = 0
        while offset < bytes.count {
            let chunk = logical >> chunkBits
            let physical = try block(ofChunk: chunk) + (logical - (chunk << chunkBits))
            let inChunk = Int((chunk + 1) << chunkBits - logical) * EROFSGeometry.blockSize
            let length = min(inChunk, bytes.count - offset)
            try file.write(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), at: physical)
            offset += length
            logical += UInt64((length + EROFSGeometry.blockSize - 1) / EROFSGeometry.blockSize)
        }
    }

    /// Whether blocks `0..<wholeBlocks` are all placed as one contiguous run and nothing else is
    /// (the tail block, kept back by the sink, is not placed yet).
    func isContiguous(wholeBlocks: UInt64) -> Bool {
        let needed = (wholeBlocks + chunkBlocks - 1) >> chunkBits
        guard UInt64(placed.count) == needed else { return false }
        guard let first = placed.first?.block else { return true }
        for (index, entry) in placed.enumerated() where entry.chunk != UInt64(index) || entry.block != first + UInt64(index) << chunkBits {
            return false
        }
        return true
    }

    /// The chunk table: the first block of each chunk, null for holes.
    func chunkTable() -> [UInt32] {
        let count = Int((totalBlocks + chunkBlocks - 1) >> chunkBits)
        var table = [UInt32](repeating: EROFSGeometry.nullAddress, count: count)
        for entry in placed { table[Int(entry.chunk)] = UInt32(truncatingIfNeeded: entry.block) }
        return table
    }

    /// Returns the unused part of the region; the runs the file owns.
    mutating func finish() -> [EROFSBlockAllocator.Run] {
        if let region, regionUsed < region.count {
            allocator.giveBack(.init(start: region.start + regionUsed, count: region.count - regionUsed))
        }
        region = nil
        return runs
    }

    private mutating func block(ofChunk chunk: UInt64) throws(DiskError) -> UInt64 {
        if let last = placed.last, last.chunk == chunk { return last.block }
        let count = min(chunkBlocks, totalBlocks - (chunk << chunkBits))
        let start: UInt64
        if let region, regionUsed + count <= region.count {
            start = region.start + regionUsed
            regionUsed += count
        } else {
            start = try allocator.takeFrontier(count)
        }
        placed.append((chunk, start))
        if let last = runs.last, last.start + last.count == start {
            runs[runs.count - 1].count += count
        } else {
            runs.append(.init(start: start, count: count))
        }
        return start
    }
}
