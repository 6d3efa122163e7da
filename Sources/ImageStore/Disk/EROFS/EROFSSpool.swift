#if canImport(Glibc)
    import Glibc
#endif

/// An unlinked scratch file beside the image: the tails of files (their last partial block)
/// wait here until ``EROFSWriter/finish(model:)`` places them inline after their inodes, so
/// memory stays bounded whatever the number of files. Blocking; confined to one thread.
final class EROFSSpool {
    struct Reference: Equatable {
        var offset: Int64
        var length: Int
    }

    private let descriptor: Int32
    private let path: String
    private var end: Int64 = 0

    /// Creates and unlinks `path` (the descriptor keeps the file until deinit).
    init(path: String) throws(DiskError) {
        descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .io(path: path, operation: "create", errno: errno) }
        self.path = path
        unlink(path)
    }

    deinit { close(descriptor) }

    /// Appends `bytes`; returns where they are.
    func append(_ bytes: UnsafeRawBufferPointer) throws(DiskError) -> Reference {
        try PositionedWrite.all(bytes, to: descriptor, at: end, path: path)
        let reference = Reference(offset: end, length: bytes.count)
        end += Int64(bytes.count)
        return reference
    }

    /// The bytes at `reference`.
    func read(_ reference: Reference) throws(DiskError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: reference.length)
        var done = 0
        while done < reference.length {
            let result = bytes.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress.map { $0 + done }, raw.count - done, off_t(reference.offset) + off_t(done))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", errno: errno)
            }
            guard result > 0 else { throw .io(path: path, operation: "read", errno: EIO) }
            done += result
        }
        return bytes
    }
}
