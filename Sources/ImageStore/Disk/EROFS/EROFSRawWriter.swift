/// One file's bytes written uncompressed as they stream (see ``EROFSDataSink``): whole blocks
/// straight to their chunk's blocks, a block only partly covered zero-filled, the last partial
/// block of a dense file kept back for the spool (it goes inline after the inode).
struct EROFSRawWriter {
    let size: Int64
    private(set) var placer: EROFSChunkPlacer
    private var partial = [UInt8](repeating: 0, count: EROFSGeometry.blockSize)
    private var partialBlock: Int64 = -1
    private(set) var end: Int64 = 0

    init(size: Int64, allocator: EROFSBlockAllocator) throws {
        self.size = size
        placer = try EROFSChunkPlacer(size: size, allocator: allocator)
    }

    /// Takes the data at `offset` (after every earlier piece, inside the size).
    mutating func feed(_ offset: Int64, _ bytes: UnsafeRawBufferPointer, file: EXT4BlockFile) throws {
        guard offset >= end, bytes.count <= size - offset else {
            throw DiskError.invalidFileData(offset: offset, length: Int64(bytes.count), size: size)
        }
        let blockSize = Int64(EROFSGeometry.blockSize)
        var position = offset
        var consumed = 0
        while consumed < bytes.count {
            let block = position / blockSize
            let inBlock = Int(position % blockSize)
            if partialBlock >= 0 && partialBlock != block {
                try flushPartial(file: file)
            }
            let left = bytes.count - consumed
            if inBlock == 0 && partialBlock < 0 && left >= EROFSGeometry.blockSize {
                let whole = left / EROFSGeometry.blockSize
                let slice = UnsafeRawBufferPointer(rebasing: bytes[consumed..<(consumed + whole * EROFSGeometry.blockSize)])
                try placer.write(slice, at: UInt64(block), file: file)
                consumed += whole * EROFSGeometry.blockSize
                position += Int64(whole) * blockSize
            } else {
                if partialBlock < 0 {
                    partialBlock = block
                    for index in partial.indices { partial[index] = 0 }
                }
                let take = min(EROFSGeometry.blockSize - inBlock, left)
                partial.replaceSubrange(inBlock..<(inBlock + take), with: bytes[consumed..<(consumed + take)])
                consumed += take
                position += Int64(take)
            }
        }
        end = position
    }

    /// Where the file's bytes lie; the tail of a dense file goes to `spool`.
    mutating func finish(file: EXT4BlockFile, spool: EROFSSpool) throws -> (EROFSDataSink.Placement, [EROFSBlockAllocator.Run]) {
        let blockSize = Int64(EROFSGeometry.blockSize)
        let tailLength = Int(size % blockSize)
        let tailBlock = size / blockSize
        var tailBytes: [UInt8]?
        if partialBlock >= 0 {
            if tailLength > 0 && partialBlock == tailBlock {
                tailBytes = Array(partial.prefix(tailLength))
            } else {
                try flushPartial(file: file)
            }
        }
        let placement: EROFSDataSink.Placement
        if placer.isContiguous(wholeBlocks: UInt64(tailBlock)) && (tailLength == 0 || tailBytes != nil) {
            var tail: EROFSSpool.Reference?
            if let tailBytes { tail = try tailBytes.withUnsafeBytes { raw in try spool.append(raw) } }
            placement = .contiguous(start: placer.firstBlock ?? 0, blocks: UInt64(tailBlock), tail: tail)
        } else {
            if let tailBytes {
                try tailBytes.withUnsafeBytes { raw in try placer.write(raw, at: UInt64(tailBlock), file: file) }
            }
            placement = .chunked(chunkBits: placer.chunkBits, chunks: placer.chunkTable())
        }
        return (placement, placer.finish())
    }

    private mutating func flushPartial(file: EXT4BlockFile) throws {
        let block = UInt64(partialBlock)
        partialBlock = -1
        try partial.withUnsafeBytes { raw in try placer.write(raw, at: block, file: file) }
    }
}
