import Foundation

extension DiskExporter {
    /// Builds the erofs disk of one layer on its own, as an overlayfs lower directory (the unit
    /// of `erofs-layers`; whiteouts and opaque directories as `LayerModelBuilder+Overlay.swift`
    /// writes them), with a dm-verity tree when `options` ask for one.
    ///
    /// ```
    /// layer blob ─ArchiveReader─▶ LayerModelBuilder(.overlayLayer) ─▶ FilesystemModel ─▶ EROFSWriter
    ///            ─▶ dm-verity tree (salt = Verity.salt(layerDiffID:)) ─▶ temp ─fsync─▶ rename ─▶ output
    /// ```
    ///
    /// Everything in the disk derives from `diffID` and the erofs options: the UUID is
    /// ``DiskIdentity/init(layerDiffID:)``, the salt ``Verity/salt(layerDiffID:)``, so two
    /// workers building the same layer write byte-identical files and either rename wins.
    ///
    /// - Parameters:
    ///   - layer: the layer blob.
    ///   - diffID: the digest of its uncompressed tar (the config's `rootfs.diff_ids` entry).
    ///   - output: the final path; its directory is created if needed.
    ///   - options: erofs compression and level, verity on or off (identity and salt are ignored).
    ///   - limits: bounds for a hostile layer.
    /// - Returns: the size, duration and verity figures of the disk.
    /// - Throws: ``LayerError`` for the layer, the erofs writer's ``DiskError`` cases,
    ///   ``DiskError/io(path:operation:errno:)``, `CancellationError`.
    public func exportLayerDisk(
        _ layer: LayerSource, diffID: Digest, to output: URL, options: ExportOptions = ExportOptions(),
        limits: LayerLimits = .default
    ) async throws -> ExportResult {
        try options.validate(for: .erofs)
        try LayerSource.checkMediaTypes([layer])
        let clock = ContinuousClock()
        let start = clock.now
        let target = try AtomicOutput(finalPath: output.path)
        let writerOptions = EROFSWriterOptions(
            uuid: DiskIdentity(layerDiffID: diffID).uuidBytes, compression: options.erofsWriterCompression)
        var verity: VerityInfo?
        do {
            try await CancellationFlag.runBlocking { flag in
                let writer = try EROFSWriter(path: target.tempPath, options: writerOptions)
                let builder = LayerModelBuilder(sink: writer.sink, limits: limits, cancellation: flag, mode: .overlayLayer)
                try builder.apply(layer)
                try writer.finish(model: builder.model)
            }
            if options.appendsVerity(for: .erofs) {
                verity = try await VerityTreeWriter(salt: Verity.salt(layerDiffID: diffID)).append(to: target.tempPath)
            }
            try await BlockingExecutor.shared.run { try target.commit() }
        } catch {
            target.discard()
            throw error
        }
        return try DiskExporter.result(of: target, duration: clock.now - start, verity: verity)
    }
}
