#if canImport(Glibc)
    import Glibc
#endif

/// Appends bytes to a new file through a 1 MiB buffer. Blocking; confined to one thread.
final class BufferedFileWriter {
    private let descriptor: Int32
    private let path: String
    private var buffer: [UInt8] = []
    private static let capacity = 1 << 20
    /// Bytes handed to ``write(_:)`` so far.
    private(set) var offset: UInt64 = 0

    /// Creates `path`, which must not exist.
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)``.
    init(creating path: String) throws(DiskError) {
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io(path: path, operation: "create", errno: errno) }
        self.path = path
        buffer.reserveCapacity(BufferedFileWriter.capacity)
    }

    deinit { close(descriptor) }

    /// Appends `bytes`.
    func write(_ bytes: some Collection<UInt8>) throws(DiskError) {
        buffer.append(contentsOf: bytes)
        offset += UInt64(bytes.count)
        if buffer.count >= BufferedFileWriter.capacity { try flush() }
    }

    /// Appends zero bytes until ``offset`` is a multiple of 4.
    func padToFour() throws(DiskError) {
        let padding = Int((4 - offset % 4) % 4)
        if padding > 0 { try write(repeatElement(UInt8(0), count: padding)) }
    }

    /// Writes out everything buffered.
    func flush() throws(DiskError) {
        var written = 0
        while written < buffer.count {
            let result = buffer.withUnsafeBytes { raw in
                Glibc.write(descriptor, raw.baseAddress.map { $0 + written }, raw.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "write", errno: errno)
            }
            written += result
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
