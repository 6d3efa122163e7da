import CFalloc

#if canImport(Glibc)
    import Glibc
#endif

/// An unlinked scratch file beside the output: the cpio writer's place for file data while the
/// layers stream and for the bare archive before a compressor reads it, and the ext4 writer's
/// place for the dm-verity hashes of the blocks it wrote (``VerityBlockHasher``).
///
/// It is created as `.<output name>.spool-<random>` (mode 0600) and unlinked at once, so
/// nothing stays behind whatever happens to the process; its space is freed when the
/// descriptor closes. Unwritten ranges are holes and read back as zeros, past the end too.
/// Blocking; confined to one thread.
final class SpoolFile: Sendable {
    /// The name it had, for error messages.
    let path: String
    let descriptor: Int32

    /// Creates and unlinks a scratch file in the directory of `output`.
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)``.
    init(beside output: String) throws(DiskError) {
        let slash = output.lastIndex(of: "/")
        let directory = slash.map { String(output[..<$0]) } ?? "."
        let name = slash.map { String(output[output.index(after: $0)...]) } ?? output
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        path = (directory.isEmpty ? "" : directory) + "/.\(name).spool-\(random)"
        descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .io(path: path, operation: "create", errno: errno) }
        guard unlink(path) == 0 else {
            let code = errno
            close(descriptor)
            throw .io(path: path, operation: "unlink", errno: code)
        }
    }

    deinit { close(descriptor) }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(DiskError) {
        try PositionedWrite.all(bytes, to: descriptor, at: offset, path: path)
    }

    /// Fills `buffer` from `offset`; holes and bytes past the end read as zeros.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(DiskError) {
        var done = 0
        while done < buffer.count {
            let result = pread(descriptor, buffer.baseAddress.map { $0 + done }, buffer.count - done, off_t(offset) + off_t(done))
            if result < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", errno: errno)
            }
            if result == 0 {
                // A trailing hole of the last file: the file ends before its region does.
                UnsafeMutableRawBufferPointer(rebasing: buffer[done...]).initializeMemory(as: UInt8.self, repeating: 0)
                return
            }
            done += result
        }
    }

    /// Frees `length` bytes from `offset` (they read back as zeros).
    func punch(at offset: Int64, length: Int64) throws(DiskError) {
        guard length > 0 else { return }
        guard cfalloc_punch_hole(descriptor, off_t(offset), off_t(length)) == 0 else {
            throw .io(path: path, operation: "punch a hole in", errno: errno)
        }
    }
}
