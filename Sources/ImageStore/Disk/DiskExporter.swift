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
/// rootfs/ ──walk──▶ DirectoryModelBuilder ─▶ FilesystemModel ─▶ EXT4Writer / EROFSWriter / CPIOWriter
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
    ///   when a compressor fails (transient for ENOSPC), ``DiskError/io(path:operation:errno:)``,
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
        let salt = options.verityTreeSalt(for: format, output: output)
        var verity: VerityInfo?
        do {
            let levelZero = try await CancellationFlag.runBlocking { flag in
                let writer = try DiskExporter.writer(
                    format, path: target.tempPath, identity: identity, options: options, veritySalt: salt)
                let model = try DirectoryModelBuilder(root: rootfs.path)
                    .build(into: writer.sink, isCancelled: { flag.isCancelled })
                try writer.finish(model: model)
                return try DiskExporter.recordedLevelZero(of: writer)
            }
            verity = try await DiskExporter.appendVerity(to: target.tempPath, salt: salt, levelZero: levelZero)
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

    /// The native writer of `format`; the build time of an erofs image is the model's most common
    /// mtime (never the clock), so the image depends only on the layers and `identity`.
    /// `veritySalt` (ext4, erofs) has the writer hash its blocks as it writes them.
    static func writer(
        _ format: DiskFormat, path: String, identity: DiskIdentity, options: ExportOptions, veritySalt: [UInt8]?
    ) throws -> any DiskImageWriter {
        switch format {
        case .ext4:
            return try EXT4Writer(path: path, options: EXT4WriterOptions(identity: identity), veritySalt: veritySalt)
        case .cpio: return try CPIOWriter(path: path, options: CPIOWriterOptions(compression: options.compression))
        case .erofs:
            return try EROFSWriter(
                path: path,
                options: EROFSWriterOptions(
                    uuid: identity.uuidBytes, compression: options.erofsWriterCompression),
                veritySalt: veritySalt)
        case .erofsLayers:
            throw DiskError.invalidOptions(
                format: format, reason: "erofs-layers is one disk per layer (exportLayerList), not a single disk")
        }
    }
}
