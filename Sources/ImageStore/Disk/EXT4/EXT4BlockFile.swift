import CFalloc

#if canImport(Glibc)
    import Glibc
#endif

/// The output file of the ext4 writer, addressed in blocks: writes to consecutive blocks are
/// gathered into one `pwrite` of up to 1 MiB; released blocks are punched out (the file stays
/// sparse and no dead data remains). With a ``VerityBlockHasher`` every write and punch is
/// also handed to it, so the dm-verity tree needs no second read of the disk. Blocking;
/// confined to one thread.
final class EXT4BlockFile {
    let path: String
    /// Hashes the blocks as they are written, when the disk gets a dm-verity tree.
    let verity: VerityBlockHasher?
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var bufferStart: UInt64 = 0
    private var writeBehind = WriteBehind()
    private static let capacity = 1 << 20

    /// Creates `path`, which must not exist; `veritySalt` starts a ``VerityBlockHasher``.
    init(creating path: String, veritySalt: [UInt8]? = nil) throws(DiskError) {
        descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io(path: path, operation: "create", errno: errno) }
        self.path = path
        do {
            verity = try veritySalt.map { salt throws(DiskError) in try VerityBlockHasher(salt: salt, beside: path) }
        } catch {
            close(descriptor)
            throw error
        }
        buffer.reserveCapacity(EXT4BlockFile.capacity)
    }

    deinit { close(descriptor) }

    /// Writes `bytes` (a whole number of blocks, or fewer bytes padded with zeros to a block)
    /// at block `block`.
    func write(_ bytes: UnsafeRawBufferPointer, at block: UInt64) throws(DiskError) {
        let blockSize = EXT4Geometry.blockSize
        if buffer.isEmpty || bufferStart + UInt64(buffer.count / blockSize) != block
            || buffer.count + bytes.count > EXT4BlockFile.capacity
        {
            try flush()
            bufferStart = block
        }
        if bytes.count >= EXT4BlockFile.capacity {
            try writeOut(bytes, atByte: block << EXT4Geometry.blockShift)
            return
        }
        buffer.append(contentsOf: bytes)
        let tail = buffer.count % blockSize
        if tail != 0 { buffer.appendZeros(blockSize - tail) }
    }

    /// Writes `bytes` at block `block`, zero-padded to a whole block.
    func write(_ bytes: [UInt8], at block: UInt64) throws(DiskError) {
        try write(bytes, range: bytes.indices, at: block)
    }

    /// Writes `bytes[range]` at block `block`, zero-padded to a whole block.
    func write(_ bytes: [UInt8], range: Range<Int>, at block: UInt64) throws(DiskError) {
        var failure: DiskError?
        bytes.withUnsafeBytes { raw in
            do throws(DiskError) { try write(UnsafeRawBufferPointer(rebasing: raw[range]), at: block) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Writes out everything gathered.
    func flush() throws(DiskError) {
        guard !buffer.isEmpty else { return }
        var failure: DiskError?
        buffer.withUnsafeBytes { raw in
            do throws(DiskError) { try writeOut(raw, atByte: bufferStart << EXT4Geometry.blockShift) } catch { failure = error }
        }
        buffer.removeAll(keepingCapacity: true)
        if let failure { throw failure }
    }

    /// Deallocates `count` blocks from `block` in the output file (they read back as zeros).
    func punch(_ block: UInt64, count: UInt64) throws(DiskError) {
        try flush()
        let result = cfalloc_punch_hole(descriptor, off_t(block << EXT4Geometry.blockShift), off_t(count << EXT4Geometry.blockShift))
        guard result == 0 else { throw .io(path: path, operation: "punch a hole in", errno: errno) }
        verity?.recordPunch(block, count: count)
    }

    /// Flushes, then sets the file's size to `blocks` blocks.
    func finish(blocks: UInt64) throws(DiskError) {
        try flush()
        guard ftruncate(descriptor, off_t(blocks << EXT4Geometry.blockShift)) == 0 else {
            throw .io(path: path, operation: "truncate", errno: errno)
        }
    }

    private func writeOut(_ bytes: UnsafeRawBufferPointer, atByte offset: UInt64) throws(DiskError) {
        try PositionedWrite.all(bytes, to: descriptor, at: Int64(offset), path: path)
        writeBehind.wrote(bytes.count, to: descriptor)
        try verity?.record(bytes, at: offset >> EXT4Geometry.blockShift)
        let tail = bytes.count % EXT4Geometry.blockSize
        if tail != 0 {
            let zeros = [UInt8](repeating: 0, count: EXT4Geometry.blockSize - tail)
            try PositionedWrite.all(zeros, count: zeros.count, to: descriptor, at: Int64(offset) + Int64(bytes.count), path: path)
        }
    }
}
