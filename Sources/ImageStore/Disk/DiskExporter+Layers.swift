import Foundation

extension DiskExporter {
    /// Builds the disk of an image straight from its layer blobs: layers → ``FilesystemModel``
    /// → native writer. Nothing of the image is created on the host, no tree, no scratch, no
    /// privilege: owners, devices, setuid bits and file capabilities are only metadata.
    ///
    /// ```
    /// layer blobs ─ArchiveReader─▶ LayerModelBuilder ─metadata─▶ FilesystemModel ─┐
    ///                                  └─file data─▶ EXT4Writer.sink (final blocks) │
    ///                                          EXT4Writer.finish(model:) ◀─────────┘
    ///         ─▶ dm-verity superblock + hash tree appended (DiskExporter+Verity)
    ///         ─▶ .<name>.tmp-<random> ─fsync─▶ rename ─▶ output ─▶ fsync(dir)
    /// ```
    ///
    /// One ``BlockingExecutor`` job applies every layer and writes the disk; cancelling the
    /// task stops it between entries and removes the temp file.
    ///
    /// - Parameters:
    ///   - layers: the manifest's layers, base first.
    ///   - format: a format written from the model (``DiskFormat/isBuiltFromModel``: ext4).
    ///   - output: the final path; its directory is created if needed.
    ///   - options: identity (UUID and hash seed; default derived from the output name).
    ///   - limits: bounds for hostile layers.
    ///   - progress: called from the applying thread with the layer-file bytes read so far
    ///     over all layers; at the end it equals the blobs' total size.
    /// - Returns: the size and duration of the export.
    /// - Throws: ``DiskError/invalidOptions(format:reason:)`` (also for a format not built from
    ///   the model), ``LayerError`` for the layers, the writer's ``DiskError`` cases (such as
    ///   ``DiskError/lostAndFoundNotDirectory(kind:)``, ``DiskError/io(path:operation:errno:)``),
    ///   `CancellationError`.
    public func export(
        layers: [LayerSource], format: DiskFormat, to output: URL, options: ExportOptions = ExportOptions(),
        limits: LayerLimits = .default, progress: (@Sendable (_ appliedBytes: Int64) -> Void)? = nil
    ) async throws -> ExportResult {
        try options.validate(for: format)
        guard format.isBuiltFromModel else {
            throw DiskError.invalidOptions(format: format, reason: "this format is still built from a directory tree")
        }
        try LayerSource.checkMediaTypes(layers)
        let clock = ContinuousClock()
        let start = clock.now
        let target = try AtomicOutput(finalPath: output.path)
        let identity = options.identity ?? DiskIdentity(name: output.lastPathComponent)
        var verity: VerityInfo?
        do {
            try await CancellationFlag.runBlocking { flag in
                let writer = try EXT4Writer(path: target.tempPath, options: EXT4WriterOptions(identity: identity))
                let builder = LayerModelBuilder(sink: writer.sink, limits: limits, cancellation: flag)
                var applied: Int64 = 0
                for layer in layers {
                    if flag.isCancelled { throw CancellationError() }
                    let base = applied
                    try builder.apply(layer) { progress?(base &+ $0) }
                    applied = base &+ layer.fileSize
                    progress?(applied)
                }
                if flag.isCancelled { throw CancellationError() }
                try writer.finish(model: builder.model)
            }
            verity = try await DiskExporter.appendVerity(to: target.tempPath, format: format, options: options, output: output)
            try await BlockingExecutor.shared.run { try target.commit() }
        } catch {
            target.discard()
            throw error
        }
        return try DiskExporter.result(of: target, duration: clock.now - start, verity: verity)
    }
}
