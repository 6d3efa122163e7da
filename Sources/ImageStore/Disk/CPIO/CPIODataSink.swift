/// The ``FileDataSink`` of ``CPIOWriter``: file bytes are spooled, in tar order, into a
/// ``SpoolFile`` until ``CPIOWriter/finish(model:)`` copies them into the archive in name order.
///
/// Each content gets the region `offset ..< offset + size` of the spool, one after another;
/// chunks are written at their offsets inside it and holes stay holes, so a sparse file costs
/// no spool space. The sink counts the data bytes of each content: what is left of its size
/// is holes, the zeros the archive will have to materialize. ``release(_:)`` punches the
/// region, so deleted files do not hold scratch space.
final class CPIODataSink: FileDataSink {
    /// What the sink knows of one stored content.
    struct Stored {
        var offset: Int64
        var size: Int64
        /// Bytes the chunks covered; `size - dataBytes` are holes.
        var dataBytes: Int64
        var released = false

        /// Zero bytes the archive must write for this content's holes.
        var holeBytes: Int64 { size - dataBytes }
    }

    let spool: SpoolFile
    private(set) var contents: [Stored] = []
    /// The end of the last region: where the next content, and later the bare archive, starts.
    private(set) var end: Int64 = 0

    init(spool: SpoolFile) {
        self.spool = spool
    }

    func store(
        size: Int64,
        chunks: ((_ offset: Int64, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> ContentID {
        guard size >= 0, size <= Int64.max - end else { throw DiskError.invalidFileData(offset: 0, length: 0, size: size) }
        guard contents.count < Int(UInt32.max) else { throw DiskError.inconsistentModel(reason: "more than 2^32 contents") }
        let start = end
        var covered: Int64 = 0
        var next: Int64 = 0
        try chunks { offset, bytes in
            guard offset >= next, bytes.count <= size - offset else {
                throw DiskError.invalidFileData(offset: offset, length: Int64(bytes.count), size: size)
            }
            try spool.write(bytes, at: start + offset)
            covered += Int64(bytes.count)
            next = offset + Int64(bytes.count)
        }
        end = start + size
        contents.append(Stored(offset: start, size: size, dataBytes: covered))
        return ContentID(rawValue: UInt32(contents.count - 1))
    }

    func release(_ content: ContentID) throws {
        let index = Int(content.rawValue)
        guard contents.indices.contains(index), !contents[index].released else { return }
        contents[index].released = true
        try spool.punch(at: contents[index].offset, length: contents[index].size)
    }

    /// The stored content `content`, if it exists and was not released.
    func stored(_ content: ContentID) -> Stored? {
        let index = Int(content.rawValue)
        guard contents.indices.contains(index), !contents[index].released else { return nil }
        return contents[index]
    }
}
