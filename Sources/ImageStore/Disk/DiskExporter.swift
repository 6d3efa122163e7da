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
/// rootfs/ ──walk──▶ ext4:  DirectoryModelBuilder ─▶ FilesystemModel ─▶ EXT4Writer (no mkfs)
///                   erofs: mkfs.erofs -zlz4hc (or plain)
///                   cpio:  CpioWriter (newc) ─▶ gzip -n / zstd -T0 (optional)
///         ─▶ ext4, erofs: dm-verity superblock + hash tree appended (DiskExporter+Verity)
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
    ///   when mkfs.erofs or a compressor fails (transient for ENOSPC), ``DiskError/io(path:operation:errno:)``,
    ///   ``DiskError/fileTooLargeForCpio(path:size:)``, the ext4 writer's cases (such as
    ///   ``DiskError/lostAndFoundNotDirectory(kind:)``), `CancellationError`.
    public func export(
        rootfs: URL, format: DiskFormat, to output: URL, options: ExportOptions = ExportOptions()
    ) async throws -> ExportResult {
        try options.validate(for: format)
        let clock = ContinuousClock()
        let start = clock.now
        let target = try AtomicOutput(finalPath: output.path)
        let identity = options.identity ?? DiskIdentity(name: output.lastPathComponent)
        var verity: VerityInfo?
        do {
            switch format {
            case .ext4:
                try await CancellationFlag.runBlocking { flag in
                    let writer = try EXT4Writer(path: target.tempPath, options: EXT4WriterOptions(identity: identity))
                    let model = try DirectoryModelBuilder(root: rootfs.path)
                        .build(into: writer.sink, isCancelled: { flag.isCancelled })
                    try writer.finish(model: model)
                }
            case .erofs:
                try await ErofsExporter(compressed: options.erofsCompressed, level: options.erofsLevel)
                    .export(rootfs: rootfs, to: target.tempPath, uuid: identity.uuid)
            case .cpio:
                let writer = CpioWriter(walker: TreeWalker(root: rootfs))
                try await CancellationFlag.runBlocking { flag in
                    try writer.write(to: target.tempPath, isCancelled: { flag.isCancelled })
                }
                try await DiskExporter.compress(target.tempPath, with: options.compression)
            }
            verity = try await DiskExporter.appendVerity(to: target.tempPath, format: format, options: options, output: output)
            try await BlockingExecutor.shared.run { try target.commit() }
        } catch {
            target.discard()
            throw error
        }
        return try DiskExporter.result(of: target, duration: clock.now - start, verity: verity)
    }

    /// The figures of a committed export.
    static func result(of target: AtomicOutput, duration: Duration, verity: VerityInfo?) throws(DiskError) -> ExportResult {
        var info = stat()
        guard stat(target.finalPath, &info) == 0 else {
            throw .io(path: target.finalPath, operation: "stat", errno: errno)
        }
        return ExportResult(
            path: target.finalPath, allocatedBytes: UInt64(info.st_blocks) * 512,
            apparentBytes: UInt64(info.st_size), duration: duration, verity: verity)
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
}
