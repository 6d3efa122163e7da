import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Empty ext4 disks for volumes: the Go original's `CreateEmptyExt4Disk`.
public enum EmptyDisk {
    /// The smallest size accepted: below it mke2fs would leave out the journal.
    public static let minimumBytes: UInt64 = 16 << 20

    /// Creates a sparse file of exactly `sizeBytes` holding an empty ext4 filesystem with a
    /// journal, atomically (temp file, fsync, rename).
    ///
    /// - Parameters:
    ///   - output: the file to create; its directory is created if needed.
    ///   - sizeBytes: the disk size, a multiple of 4096 and at least ``minimumBytes``.
    /// - Throws: ``DiskError/invalidOptions(format:reason:)`` for a bad size,
    ///   ``DiskError/toolFailed(tool:command:status:stderrTail:)``, ``DiskError/io(path:operation:errno:)``.
    public static func create(at output: URL, sizeBytes: UInt64) async throws {
        guard sizeBytes % 4096 == 0, sizeBytes >= minimumBytes else {
            throw DiskError.invalidOptions(
                format: .ext4, reason: "volume size \(sizeBytes) must be a multiple of 4096 and at least \(minimumBytes)")
        }
        let target = try AtomicOutput(finalPath: output.path)
        do {
            try await BlockingExecutor.shared.run {
                try EmptyDisk.makeSparseFile(target.tempPath, size: sizeBytes)
            }
            try await ExternalTool(name: "mkfs.ext4").run([
                "-q", "-F", "-t", "ext4", "-b", "4096", "-I", "256", "-m", "0", "-E", "nodiscard",
                target.tempPath,
            ])
            try await BlockingExecutor.shared.run { try target.commit() }
        } catch {
            target.discard()
            throw error
        }
    }

    /// Creates `path` (which must not exist) as a hole of `size` bytes.
    private static func makeSparseFile(_ path: String, size: UInt64) throws(DiskError) {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        defer { close(descriptor) }
        guard ftruncate(descriptor, off_t(size)) == 0 else {
            throw .io(path: path, operation: "ftruncate", errno: errno)
        }
    }
}
