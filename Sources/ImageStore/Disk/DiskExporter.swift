import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Turns a rootfs directory into a disk file: ext4, erofs or a cpio initramfs.
///
/// The counterpart of the Go original's `ExportRootfs`. The disk is built in a temp file beside
/// `output` (`.<name>.tmp-<random>`), fsynced and renamed into place, and the directory is
/// fsynced, so `output` is either absent or complete; on failure or cancellation the temp file
/// is removed. `rootfs` is only read: scratch the caller passes stays the caller's to remove.
///
/// ```
/// rootfs/ ──walk──▶ ext4:  Ext4Sizing ─▶ sparse file ─▶ mkfs.ext4 -d ─▶ resize2fs -M ─▶ truncate
///                   erofs: mkfs.erofs -zlz4hc (or plain)
///                   cpio:  CpioWriter (newc) ─▶ gzip -n / zstd -T0 (optional)
///         ─▶ .<name>.tmp-<random> ─fsync─▶ rename ─▶ output ─▶ fsync(dir)
/// ```
public struct DiskExporter: Sendable {
    /// An exporter using the tools found on `PATH`.
    public init() {}

    /// Builds the disk of `rootfs` at `output`, replacing any file there.
    ///
    /// - Parameters:
    ///   - rootfs: the directory whose content becomes the disk's root.
    ///   - format: ext4, erofs or cpio.
    ///   - output: the final path; its directory is created if needed.
    ///   - options: compression and UUID; see ``ExportOptions``.
    /// - Returns: the size and duration of the export.
    /// - Throws: ``DiskError/invalidOptions(format:reason:)`` for options that do not fit the
    ///   format, ``DiskError/notADirectory(path:)``, ``DiskError/toolFailed(tool:command:status:stderrTail:)``
    ///   when mkfs or a compressor fails (transient for ENOSPC), ``DiskError/io(path:operation:errno:)``,
    ///   ``DiskError/fileTooLargeForCpio(path:size:)``, `CancellationError`.
    public func export(
        rootfs: URL, format: DiskFormat, to output: URL, options: ExportOptions = ExportOptions()
    ) async throws -> ExportResult {
        try options.validate(for: format)
        let clock = ContinuousClock()
        let start = clock.now
        let target = try AtomicOutput(finalPath: output.path)
        let uuid = options.volumeUUID ?? DiskExporter.derivedUUID(for: output.lastPathComponent)
        do {
            switch format {
            case .ext4:
                try await Ext4Exporter().export(rootfs: rootfs, to: target.tempPath, uuid: uuid)
            case .erofs:
                try await ErofsExporter(compressed: options.erofsCompressed, level: options.erofsLevel)
                    .export(rootfs: rootfs, to: target.tempPath, uuid: uuid)
            case .cpio:
                let writer = CpioWriter(walker: TreeWalker(root: rootfs))
                try await CancellationFlag.runBlocking { flag in
                    try writer.write(to: target.tempPath, isCancelled: { flag.isCancelled })
                }
                try await DiskExporter.compress(target.tempPath, with: options.compression)
            }
            try await BlockingExecutor.shared.run { try target.commit() }
        } catch {
            target.discard()
            throw error
        }
        var info = stat()
        guard stat(target.finalPath, &info) == 0 else {
            throw DiskError.io(path: target.finalPath, operation: "stat", errno: errno)
        }
        return ExportResult(
            path: target.finalPath, allocatedBytes: UInt64(info.st_blocks) * 512,
            apparentBytes: UInt64(info.st_size), duration: clock.now - start)
    }

    /// Compresses `path` in place with gzip or zstd, through a sibling file the tool writes.
    static func compress(_ path: String, with compression: ExportOptions.Compression) async throws {
        let compressed: String
        switch compression {
        case .none:
            return
        case .gzip:
            compressed = path + ".gz"
            try await ExternalTool(name: "gzip").run(["-n", "-f", "-q", path])
        case .zstd:
            compressed = path + ".zst"
            try await ExternalTool(name: "zstd").run(["-q", "-f", "-T0", "--rm", path, "-o", compressed])
        }
        guard rename(compressed, path) == 0 else {
            throw DiskError.io(path: compressed, operation: "rename", errno: errno)
        }
    }

    /// A UUID that depends only on `name`: rebuilding a disk keeps its UUID, and disks named
    /// after different manifest digests get different ones. (Two FNV-1a 64-bit hashes, with the
    /// version 4 and RFC 4122 variant bits set.)
    static func derivedUUID(for name: String) -> UUID {
        func fnv(_ seed: UInt64) -> UInt64 {
            var hash = seed
            for byte in name.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            return hash
        }
        var bytes =
            withUnsafeBytes(of: fnv(0xcbf2_9ce4_8422_2325).bigEndian, Array.init)
            + withUnsafeBytes(of: fnv(0x84222325_cbf29ce4).bigEndian, Array.init)
        bytes[6] = (bytes[6] & 0x0f) | 0x40
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }
}
