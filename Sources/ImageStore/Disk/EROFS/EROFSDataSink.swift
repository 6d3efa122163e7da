/// The ``FileDataSink`` of ``EROFSWriter``: file bytes go to their final blocks as they stream.
///
/// Uncompressed (``EROFSRawWriter``): a file is split into chunks of `2^k` blocks, `k` the
/// smallest that keeps it at ``EROFSGeometry/maxChunkEntries`` chunks (one block for files up to
/// 256 MiB). A chunk gets its blocks, contiguous, when the first byte of data reaches it; a
/// chunk no data reaches is a hole. Chunks are placed one after another in a free run big
/// enough for the whole file, else at the frontier, so a file without holes is one contiguous
/// run, ``Placement/contiguous`` (erofs `FLAT_PLAIN`, or `FLAT_INLINE` with the last partial
/// block in the spool until it goes after the inode). A file with holes, or whose run was
/// split, is ``Placement/chunked`` (erofs `CHUNK_BASED`, holes as null chunks).
///
/// Compressed (``EROFSCompressedStream``): see there; files of one block or less, files with
/// holes in their first 8 MiB and files that compression does not shrink by a block are stored
/// uncompressed as above.
final class EROFSDataSink: FileDataSink {
    enum Placement: Equatable {
        /// `blocks` whole blocks from `start`, then `tail` (the last `size % 4096` bytes), if any.
        case contiguous(start: UInt64, blocks: UInt64, tail: EROFSSpool.Reference?)
        /// Chunks of `2^chunkBits` blocks; the first block of each, or ``EROFSGeometry/nullAddress``.
        case chunked(chunkBits: UInt8, chunks: [UInt32])
        /// LZ4 or plain physical clusters of one block each, in file order.
        case compressed([EROFSPcluster.Extent])
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
    /// `nil` for uncompressed data, else the LZ4HC level or `.some(nil)` for LZ4.
    let compressionLevel: Int??
    var allocator = EROFSBlockAllocator()
    private(set) var contents: [Stored] = []

    init(file: EXT4BlockFile, spool: EROFSSpool, compression: EROFSWriterOptions.Compression) {
        self.file = file
        self.spool = spool
        switch compression {
        case .none: compressionLevel = nil
        case .lz4: compressionLevel = .some(nil)
        case .lz4hc(let level): compressionLevel = .some(level)
        }
    }

    func store(
        size: Int64,
        chunks: ((_ offset: Int64, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> ContentID {
        guard size >= 0 else { throw DiskError.invalidFileData(offset: 0, length: 0, size: size) }
        guard contents.count < Int(UInt32.max) else { throw DiskError.imageTooLargeForErofs }
        let stored: Stored
        if let level = compressionLevel, size > Int64(EROFSGeometry.blockSize) {
            stored = try storeCompressible(size: size, level: level, chunks: chunks)
        } else {
            var raw = try EROFSRawWriter(size: size, allocator: allocator)
            try chunks { offset, bytes in try raw.feed(offset, bytes, file: file) }
            let (placement, runs) = try raw.finish(file: file, spool: spool)
            allocator = raw.placer.allocator
            stored = Stored(size: size, placement: placement, runs: runs)
        }
        contents.append(stored)
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
