/// The ``FileDataSink`` of an uncompressed ``EROFSWriter``: file bytes go straight to their
/// final blocks as they stream; the last partial block of a file waits in the spool to be
/// stored inline after its inode.
///
/// A file is split into chunks of `2^k` blocks, `k` the smallest that keeps it at
/// ``EROFSGeometry/maxChunkEntries`` chunks (one block for files up to 256 MiB). A chunk gets
/// its blocks, contiguous, when the first byte of data reaches it; a chunk no data reaches is a
/// hole. Chunks are placed one after another in a free run big enough for the whole file, else
/// at the frontier, so a file without holes is one contiguous run: ``Placement/contiguous``
/// (erofs `FLAT_PLAIN` or `FLAT_INLINE`). A file with holes, or one whose run was split, is
/// ``Placement/chunked`` (erofs `CHUNK_BASED`, holes as null chunks).
final class EROFSDataSink: FileDataSink {
    enum Placement: Equatable {
        /// `blocks` whole blocks from `start`, then `tail` (the last `size % 4096` bytes), if any.
        case contiguous(start: UInt64, blocks: UInt64, tail: EROFSSpool.Reference?)
        /// Chunks of `2^chunkBits` blocks; the first block of each, or ``EROFSGeometry/nullAddress``.
        case chunked(chunkBits: UInt8, chunks: [UInt32])
    }

    struct Stored {
        var size: Int64
        var placement: Placement
        /// Every block run the content owns, given back on release.
        var runs: [EROFSBlockAllocator.Run]
        var released = false
    }

    let file: EXT4BlockFile
    let spool: EROFSSpool
    var allocator = EROFSBlockAllocator()
    private(set) var contents: [Stored] = []

    init(file: EXT4BlockFile, spool: EROFSSpool) {
        self.file = file
        self.spool = spool
    }

    func store(
        size: Int64,
        chunks: ((_ offset: Int64, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> ContentID {
        guard size >= 0 else { throw DiskError.invalidFileData(offset: 0, length: 0, size: size) }
        guard contents.count < Int(UInt32.max) else { throw DiskError.imageTooLargeForErofs }
        var placer = try EROFSChunkPlacer(size: size, allocator: allocator)
        defer { allocator = placer.allocator }
        let blockSize = Int64(EROFSGeometry.blockSize)
        var partial = [UInt8](repeating: 0, count: EROFSGeometry.blockSize)
        var partialBlock: Int64 = -1
        var end: Int64 = 0
        try chunks { offset, bytes in
            guard offset >= end, bytes.count <= size - offset else {
                throw DiskError.invalidFileData(offset: offset, length: Int64(bytes.count), size: size)
            }
            var position = offset
            var consumed = 0
            while consumed < bytes.count {
                let block = position / blockSize
                let inBlock = Int(position % blockSize)
                if partialBlock >= 0 && partialBlock != block {
                    try partial.withUnsafeBytes { try placer.write($0, at: UInt64(partialBlock), file: file) }
                    partialBlock = -1
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
                    if let source = bytes.baseAddress {
                        partial.withUnsafeMutableBytes { target in
                            target.baseAddress.map { ($0 + inBlock).copyMemory(from: source + consumed, byteCount: take) }
                        }
                    }
                    consumed += take
                    position += Int64(take)
                }
            }
            end = position
        }
        let tailLength = Int(size % blockSize)
        let tailBlock = size / blockSize
        var tailBytes: [UInt8]?
        if partialBlock >= 0 {
            if tailLength > 0 && partialBlock == tailBlock {
                tailBytes = Array(partial.prefix(tailLength))
            } else {
                try partial.withUnsafeBytes { try placer.write($0, at: UInt64(partialBlock), file: file) }
            }
        }
        let placement: Placement
        if placer.isContiguous(wholeBlocks: UInt64(tailBlock)) && (tailLength == 0 || tailBytes != nil) {
            var tail: EROFSSpool.Reference?
            if let tailBytes { tail = try tailBytes.withUnsafeBytes { try spool.append($0) } }
            placement = .contiguous(start: placer.firstBlock ?? 0, blocks: UInt64(tailBlock), tail: tail)
        } else {
            if let tailBytes {
                try tailBytes.withUnsafeBytes { try placer.write($0, at: UInt64(tailBlock), file: file) }
            }
            try placer.placeLastChunk()
            placement = .chunked(chunkBits: placer.chunkBits, chunks: placer.chunkTable())
        }
        let runs = placer.finish()
        contents.append(Stored(size: size, placement: placement, runs: runs))
        return ContentID(rawValue: UInt32(contents.count - 1))
    }

    func release(_ content: ContentID) throws {
        let index = Int(content.rawValue)
        guard contents.indices.contains(index), !contents[index].released else { return }
        contents[index].released = true
        for run in contents[index].runs {
            try file.punch(run.start, count: run.count)
            allocator.giveBack(run)
        }
        contents[index].runs = []
    }

    /// The stored content `content`, if it exists and was not released.
    func stored(_ content: ContentID) -> Stored? {
        let index = Int(content.rawValue)
        guard contents.indices.contains(index), !contents[index].released else { return nil }
        return contents[index]
    }
}
