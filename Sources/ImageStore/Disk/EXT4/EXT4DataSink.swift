/// The ``FileDataSink`` of ``EXT4Writer``: regular file bytes go straight to their final blocks.
///
/// Blocks are allocated as data arrives, one logical block at a time in offset order, so
/// consecutive blocks of a file land in consecutive blocks of the image and merge into extents
/// of up to 32,768 blocks. A block only partly covered by chunks is zero-filled; a block no
/// chunk touches is a hole (no block allocated). ``release(_:)`` punches the content's blocks
/// out of the output file and hands them to the allocator for reuse.
final class EXT4DataSink: FileDataSink {
    /// What the sink knows of one stored content.
    struct Stored {
        var size: Int64
        var extents: [EXT4Extent]
        var released = false
    }

    let file: EXT4BlockFile
    var allocator = EXT4BlockAllocator()
    private(set) var contents: [Stored] = []
    /// The block being filled by chunks that do not cover it whole.
    private var partial = [UInt8](repeating: 0, count: EXT4Geometry.blockSize)

    init(file: EXT4BlockFile) {
        self.file = file
    }

    func store(
        size: Int64,
        chunks: ((_ offset: Int64, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> ContentID {
        guard size >= 0, UInt64(size) <= EXT4Geometry.maxFileBlocks * UInt64(EXT4Geometry.blockSize) - 1 else {
            throw DiskError.fileTooLargeForExt4(size: size)
        }
        let blockSize = Int64(EXT4Geometry.blockSize)
        var extents: [EXT4Extent] = []
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
                    try emitPartial(block: partialBlock, into: &extents)
                    partialBlock = -1
                }
                let left = bytes.count - consumed
                if inBlock == 0 && partialBlock < 0 && left >= EXT4Geometry.blockSize {
                    let whole = left / EXT4Geometry.blockSize
                    let slice = UnsafeRawBufferPointer(rebasing: bytes[consumed..<(consumed + whole * EXT4Geometry.blockSize)])
                    try emit(slice, firstBlock: UInt64(block), into: &extents)
                    consumed += whole * EXT4Geometry.blockSize
                    position += Int64(whole) * blockSize
                } else {
                    if partialBlock < 0 {
                        partialBlock = block
                        for index in partial.indices { partial[index] = 0 }
                    }
                    let take = min(EXT4Geometry.blockSize - inBlock, left)
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
        if partialBlock >= 0 { try emitPartial(block: partialBlock, into: &extents) }
        guard contents.count < Int(UInt32.max) else { throw DiskError.fileTooLargeForExt4(size: size) }
        contents.append(Stored(size: size, extents: extents))
        return ContentID(rawValue: UInt32(contents.count - 1))
    }

    func release(_ content: ContentID) throws {
        let index = Int(content.rawValue)
        guard contents.indices.contains(index), !contents[index].released else { return }
        contents[index].released = true
        try punch(contents[index].extents)
        contents[index].extents = []
    }

    /// Punches `extents` and gives their blocks back.
    func punch(_ extents: [EXT4Extent]) throws(DiskError) {
        for extent in extents {
            try file.punch(extent.physical, count: UInt64(extent.length))
            allocator.giveBack(.init(start: extent.physical, count: UInt64(extent.length)))
        }
    }

    /// The stored content `content`, if it exists and was not released.
    func stored(_ content: ContentID) -> Stored? {
        let index = Int(content.rawValue)
        guard contents.indices.contains(index), !contents[index].released else { return nil }
        return contents[index]
    }

    private func emitPartial(block: Int64, into extents: inout [EXT4Extent]) throws {
        var failure: Error?
        partial.withUnsafeBytes { raw in
            do { try emit(raw, firstBlock: UInt64(block), into: &extents) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Allocates blocks for `bytes` (whole blocks) from logical block `firstBlock` and writes them.
    private func emit(_ bytes: UnsafeRawBufferPointer, firstBlock: UInt64, into extents: inout [EXT4Extent]) throws {
        var logical = firstBlock
        var offset = 0
        var left = UInt64(bytes.count / EXT4Geometry.blockSize)
        while left > 0 {
            let run: EXT4BlockAllocator.Run
            do { run = try allocator.allocateData(upTo: left) } catch { throw DiskError.imageTooLargeForExt4 }
            let length = Int(run.count) * EXT4Geometry.blockSize
            try file.write(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), at: run.start)
            EXT4DataSink.append(logical: logical, physical: run.start, count: run.count, to: &extents)
            logical += run.count
            offset += length
            left -= run.count
        }
    }

    /// Adds a mapping, merging with the last extent where both sides continue it.
    static func append(logical: UInt64, physical: UInt64, count: UInt64, to extents: inout [EXT4Extent]) {
        var logical = logical, physical = physical, count = count
        if let last = extents.last, UInt64(last.logical) + UInt64(last.length) == logical,
            last.physical + UInt64(last.length) == physical, UInt64(last.length) < EXT4Geometry.maxExtentLength
        {
            let grow = min(count, EXT4Geometry.maxExtentLength - UInt64(last.length))
            extents[extents.count - 1].length += UInt16(grow)
            logical += grow
            physical += grow
            count -= grow
        }
        while count > 0 {
            let length = min(count, EXT4Geometry.maxExtentLength)
            extents.append(EXT4Extent(logical: UInt32(truncatingIfNeeded: logical), length: UInt16(length), physical: physical))
            logical += length
            physical += length
            count -= length
        }
    }
}
