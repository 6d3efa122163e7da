/// One compressed file while it streams: bytes gather into a batch of
/// ``EROFSDataSink/batchSize``; each full batch is compressed on every core
/// (``EROFSPcluster/compressSegments(_:level:)``) and its pclusters written to consecutive
/// blocks, a free run when one is big enough, else at the frontier.
final class EROFSCompressedStream {
    private let sink: EROFSDataSink
    private let level: Int?
    private var batch: [UInt8] = []
    private var extents: [EROFSPcluster.Extent] = []
    private var runs: [EROFSBlockAllocator.Run] = []

    init(sink: EROFSDataSink, level: Int?) {
        self.sink = sink
        self.level = level
        batch.reserveCapacity(EROFSDataSink.batchSize)
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let take = min(bytes.count - offset, EROFSDataSink.batchSize - batch.count)
            batch.appendBytes(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + take)]))
            offset += take
            if batch.count == EROFSDataSink.batchSize { try flush() }
        }
    }

    func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in try append(raw) }
    }

    func append(zeros count: Int64) throws {
        var left = count
        while left > 0 {
            let take = min(left, Int64(EROFSDataSink.batchSize - batch.count))
            batch.appendZeros(Int(take))
            left -= take
            if batch.count == EROFSDataSink.batchSize { try flush() }
        }
    }

    /// Compresses and writes what is left; the extents and the block runs of the file.
    func finish() throws -> ([EROFSPcluster.Extent], [EROFSBlockAllocator.Run]) {
        try flush()
        return (extents, runs)
    }

    /// Writes already compressed pieces (a whole file); the extents and runs.
    func write(_ pieces: [EROFSPcluster.Piece]) throws -> ([EROFSPcluster.Extent], [EROFSBlockAllocator.Run]) {
        try place(pieces)
        return (extents, runs)
    }

    private func flush() throws {
        guard !batch.isEmpty else { return }
        let pieces = EROFSPcluster.compressSegments(batch, level: level)
        batch.removeAll(keepingCapacity: true)
        try place(pieces)
    }

    private func place(_ pieces: [EROFSPcluster.Piece]) throws {
        let count = UInt64(pieces.count)
        guard count > 0 else { return }
        let start: UInt64
        if let run = sink.allocator.takeFree(atLeast: count) {
            start = run.start
            sink.allocator.giveBack(.init(start: run.start + count, count: run.count - count))
        } else {
            start = try sink.allocator.takeFrontier(count)
        }
        for (index, piece) in pieces.enumerated() {
            try sink.file.write(piece.bytes, at: start + UInt64(index))
            extents.append(.init(length: UInt32(piece.length), plain: piece.plain, block: UInt32(truncatingIfNeeded: start + UInt64(index))))
        }
        if let last = runs.last, last.start + last.count == start {
            runs[runs.count - 1].count += count
        } else {
            runs.append(.init(start: start, count: count))
        }
    }
}
