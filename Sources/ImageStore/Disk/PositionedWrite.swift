#if canImport(Glibc)
    import Glibc
#endif

/// `pwrite` until every byte is written, for the writers' output and scratch files.
enum PositionedWrite {
    /// Writes all of `bytes` at `offset` of `descriptor` (retrying on EINTR and short writes; a write of nothing is EIO).
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)`` naming `path`.
    static func all(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, at offset: Int64, path: String) throws(DiskError) {
        var written = 0
        while written < bytes.count {
            let result = pwrite(descriptor, bytes.baseAddress.map { $0 + written }, bytes.count - written, off_t(offset) + off_t(written))
            if result < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "write", errno: errno)
            }
            // No progress on a regular file is an I/O error, never a reason to spin.
            guard result > 0 else { throw .io(path: path, operation: "write", errno: EIO) }
            written += result
        }
    }

    /// Writes the first `count` bytes of `bytes` at `offset`, as ``all(_:to:at:path:)``.
    static func all(_ bytes: [UInt8], count: Int, to descriptor: Int32, at offset: Int64, path: String) throws(DiskError) {
        let failure = bytes.withUnsafeBytes { raw -> DiskError? in
            do throws(DiskError) {
                try all(UnsafeRawBufferPointer(rebasing: raw[0..<count]), to: descriptor, at: offset, path: path)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }
}
