extension EROFSDataSink {
    /// Bytes of a file held before deciding how to store it, and compressed per batch after.
    static let batchSize = 8 << 20

    /// Stores a file larger than one block when compression is on.
    ///
    /// The first 8 MiB are held in memory: a file that ends within them is stored compressed if
    /// it is dense and compression saves a block, else uncompressed (holes kept). A longer file
    /// with no hole in its first 8 MiB is compressed in batches of 8 MiB as it streams; a
    /// later hole is compressed as zeros (erofs compressed files have no holes). A longer
    /// file with a hole in its first 8 MiB is stored uncompressed. Memory: one batch, its
    /// pieces, and one LZ4HC state per core.
    func storeCompressible(
        size: Int64, level: Int?,
        chunks: ((_ offset: Int64, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> Stored {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Int(min(size, Int64(EROFSDataSink.batchSize))))
        var ranges: [Range<Int>] = []
        var sawGap = false
        var raw: EROFSRawWriter?
        var stream: EROFSCompressedStream?
        var end: Int64 = 0
        try chunks { offset, bytes in
            guard offset >= end, bytes.count <= size - offset else {
                throw DiskError.invalidFileData(offset: offset, length: Int64(bytes.count), size: size)
            }
            defer { end = offset + Int64(bytes.count) }
            if raw != nil {
                try raw?.feed(offset, bytes, file: file)
                return
            }
            if let current = stream {
                try current.append(zeros: offset - end)
                try current.append(bytes)
                return
            }
            if offset > end { sawGap = true }
            if offset + Int64(bytes.count) <= Int64(EROFSDataSink.batchSize) {
                buffer.appendZeros(Int(offset) - buffer.count)
                buffer.appendBytes(bytes)
                ranges.append(Int(offset)..<buffer.count)
                return
            }
            if sawGap {
                var writer = try replay(buffer, ranges, size: size)
                try writer.feed(offset, bytes, file: file)
                raw = writer
            } else {
                let current = EROFSCompressedStream(sink: self, level: level)
                try current.append(buffer)
                try current.append(zeros: offset - Int64(buffer.count))
                try current.append(bytes)
                stream = current
            }
            buffer = []
        }
        if var writer = raw {
            let (placement, runs) = try writer.finish(file: file, spool: spool)
            allocator = writer.placer.allocator
            return Stored(size: size, placement: placement, runs: runs)
        }
        if let current = stream {
            try current.append(zeros: size - end)
            let (extents, runs) = try current.finish()
            return Stored(size: size, placement: .compressed(extents), runs: runs)
        }
        if !sawGap && end == size {
            let pieces = EROFSPcluster.compressSegments(buffer, level: level)
            if UInt64(pieces.count) < EROFSGeometry.blocks(size) {
                let current = EROFSCompressedStream(sink: self, level: level)
                let (extents, runs) = try current.write(pieces)
                return Stored(size: size, placement: .compressed(extents), runs: runs)
            }
        }
        var writer = try replay(buffer, ranges, size: size)
        let (placement, runs) = try writer.finish(file: file, spool: spool)
        allocator = writer.placer.allocator
        return Stored(size: size, placement: placement, runs: runs)
    }

    /// An uncompressed writer fed with the held data ranges.
    private func replay(_ buffer: [UInt8], _ ranges: [Range<Int>], size: Int64) throws -> EROFSRawWriter {
        var writer = try EROFSRawWriter(size: size, allocator: allocator)
        for range in ranges {
            try buffer.withUnsafeBytes { raw in
                try writer.feed(Int64(range.lowerBound), UnsafeRawBufferPointer(rebasing: raw[range]), file: file)
            }
        }
        return writer
    }
}
