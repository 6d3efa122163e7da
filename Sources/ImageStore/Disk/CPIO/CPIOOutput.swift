#if canImport(Glibc)
    import Glibc
#endif

/// Appends bytes to a descriptor from a start offset through a 1 MiB buffer (`pwrite`, so the
/// descriptor may be the spool file that is also read). Blocking; confined to one thread.
final class CPIOOutput {
    private let descriptor: Int32
    private let path: String
    private var buffer: [UInt8] = []
    private var writeBehind = WriteBehind()
    private var flushedTo: Int64
    private static let capacity = 1 << 20
    /// Bytes appended so far.
    private(set) var length: Int64 = 0

    init(descriptor: Int32, path: String, start: Int64 = 0) {
        self.descriptor = descriptor
        self.path = path
        flushedTo = start
        buffer.reserveCapacity(CPIOOutput.capacity)
    }

    /// Appends `bytes`.
    func write(_ bytes: some Collection<UInt8>) throws(DiskError) {
        buffer.append(contentsOf: bytes)
        length += Int64(bytes.count)
        if buffer.count >= CPIOOutput.capacity { try flush() }
    }

    /// Appends zeros up to the next multiple of 4 of ``length``.
    func padToFour() throws(DiskError) {
        let padding = CPIOHeader.padding(Int(length % 4))
        if padding > 0 { try write(repeatElement(UInt8(0), count: padding)) }
    }

    /// Appends `count` bytes of `spool` from `offset`, read in pieces of at most 1 MiB.
    func copy(from spool: SpoolFile, offset: Int64, count: Int64) throws(DiskError) {
        var done: Int64 = 0
        while done < count {
            if buffer.count >= CPIOOutput.capacity { try flush() }
            let piece = Int(min(count - done, Int64(CPIOOutput.capacity - buffer.count)))
            let old = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: piece))
            var failure: DiskError?
            buffer.withUnsafeMutableBytes { raw in
                do throws(DiskError) {
                    try spool.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[old..<(old + piece)]), at: offset + done)
                } catch { failure = error }
            }
            if let failure { throw failure }
            done += Int64(piece)
            length += Int64(piece)
        }
    }

    /// Writes out everything buffered.
    func flush() throws(DiskError) {
        var written = 0
        while written < buffer.count {
            let result = buffer.withUnsafeBytes { raw in
                pwrite(descriptor, raw.baseAddress.map { $0 + written }, raw.count - written, off_t(flushedTo) + off_t(written))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "write", errno: errno)
            }
            written += result
        }
        flushedTo += Int64(buffer.count)
        writeBehind.wrote(buffer.count, to: descriptor)
        buffer.removeAll(keepingCapacity: true)
    }
}
