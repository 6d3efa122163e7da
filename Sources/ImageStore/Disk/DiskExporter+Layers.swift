import Foundation

extension DiskExporter {
    /// Builds the disk of an image straight from its layer blobs: layers → ``FilesystemModel``
    /// → native writer. Nothing of the image is created on the host, no tree, no scratch, no
    /// privilege: owners, devices, setuid bits and file capabilities are only metadata.
    ///
    /// ```
    /// layer blobs ─ArchiveReader─▶ LayerModelBuilder ─metadata─▶ FilesystemModel ─┐
    ///                                  └─file data─▶ writer.sink                      │
    ///                                  EXT4Writer / EROFSWriter / CPIOWriter .finish(model:) ◀──────┘
    ///         ─▶ ext4, erofs: dm-verity tree appended (DiskExporter+Verity)
    ///         ─▶ .<name>.tmp-<random> ─fsync─▶ rename ─▶ output ─▶ fsync(dir)
    /// ```
    ///
    /// One ``BlockingExecutor`` job per layer applies it, one more writes the disk; between
    /// them the task waits for the next layer's blob when `arrivals` is given (a streaming
    /// pull), so no blocking thread is held while a download runs. Cancelling the task stops it
    /// between entries and removes the temp file.
    ///
    /// - Parameters:
    ///   - layers: the manifest's layers, base first.
    ///   - format: ext4, erofs or cpio.
    ///   - output: the final path; its directory is created if needed.
    ///   - options: identity (UUID and hash seed; default derived from the output name), cpio
    ///     and erofs compression, dm-verity.
    ///   - limits: bounds for hostile layers.
    ///   - arrivals: when each layer's blob is in the store (``ImagePuller/pullStreaming(_:platform:progress:)``);
    ///     `nil` when every blob is there already.
    ///   - progress: called from the applying thread with the layer-file bytes read so far
    ///     over all layers; at the end it equals the blobs' total size.
    /// - Returns: the size and duration of the export.
    /// - Throws: ``DiskError/invalidOptions(format:reason:)``, ``LayerError`` for the layers, the writer's ``DiskError`` cases (such as
    ///   ``DiskError/lostAndFoundNotDirectory(kind:)``, ``DiskError/io(path:operation:errno:)``),
    ///   `CancellationError`.
    public func export(
        layers: [LayerSource], format: DiskFormat, to output: URL, options: ExportOptions = ExportOptions(),
        limits: LayerLimits = .default, arrivals: LayerArrivals? = nil,
        progress: (@Sendable (_ appliedBytes: Int64) -> Void)? = nil
    ) async throws -> ExportResult {
        try options.validate(for: format)
        try LayerSource.checkMediaTypes(layers)
        let clock = ContinuousClock()
        let start = clock.now
        let target = try AtomicOutput(finalPath: output.path)
        let identity = options.identity ?? DiskIdentity(name: output.lastPathComponent)
        let salt = options.verityTreeSalt(for: format, output: output)
        var verity: VerityInfo?
        do {
            let flag = CancellationFlag()
            let levelZero = try await withTaskCancellationHandler {
                let job = try await BlockingExecutor.shared.run {
                    try ModelBuildJob(
                        format: format, path: target.tempPath, identity: identity, options: options, limits: limits,
                        veritySalt: salt, cancellation: flag)
                }
                var applied: Int64 = 0
                for (index, layer) in layers.enumerated() {
                    try Task.checkCancellation()
                    let base = applied
                    // Returns the blob bytes read: the layer's size.
                    let apply = { @Sendable (follow: BlobFollow?) throws -> Int64 in
                        let reader = try layer.openArchive(follow: follow)
                        try job.builder.apply(reader, layer: layer.digest) { progress?(base &+ $0) }
                        return reader.fileBytesRead
                    }
                    // A streaming pull: layer N is applied while its own bytes and N+1… download.
                    let read: Int64
                    switch try await arrivals?.waitUntilReadable(index) {
                    case .growing(let follow):
                        // Waiting for the download must not hold an executor thread the
                        // downloads themselves need.
                        read = try await BlockingExecutor.runOnOwnThread { try apply(follow) }
                    case .stored, nil:
                        read = try await BlockingExecutor.shared.run { try apply(nil) }
                    }
                    applied = base &+ read
                    progress?(applied)
                }
                // Nothing is published before every blob is verified and stored.
                if let arrivals { for index in layers.indices { _ = try await arrivals.wait(index) } }
                try Task.checkCancellation()
                return try await BlockingExecutor.shared.run {
                    try job.writer.finish(model: job.builder.model)
                    return try DiskExporter.recordedLevelZero(of: job.writer)
                }
            } onCancel: {
                flag.cancel()
            }
            verity = try await DiskExporter.appendVerity(to: target.tempPath, salt: salt, levelZero: levelZero)
            try await BlockingExecutor.shared.run { try target.commit() }
        } catch {
            target.discard()
            throw error
        }
        return try DiskExporter.result(of: target, duration: clock.now - start, verity: verity)
    }
}
