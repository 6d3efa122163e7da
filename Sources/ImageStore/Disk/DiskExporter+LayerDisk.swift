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
    /// A layer that hardlinks a file of a lower layer is refused: its disk needs the lower
    /// layers (``exportLayerDisk(_:over:chainID:to:options:limits:)``).
    ///
    /// - Parameters:
    ///   - layer: the layer blob.
    ///   - diffID: the digest of its uncompressed tar (the config's `rootfs.diff_ids` entry).
    ///   - output: the final path; its directory is created if needed.
    ///   - options: erofs compression and level, verity on or off (identity and salt are ignored).
    ///   - limits: bounds for a hostile layer.
    /// - Returns: the size, duration and verity figures of the disk.
    /// - Throws: ``LayerError`` for the layer (``LayerError/invalidHardlink(layer:path:target:reason:)``
    ///   for a link to a lower layer's file), the erofs writer's ``DiskError`` cases,
    ///   ``DiskError/io(path:operation:errno:)``, `CancellationError`.
    public func exportLayerDisk(
        _ layer: LayerSource, diffID: Digest, to output: URL, options: ExportOptions = ExportOptions(),
        limits: LayerLimits = .default
    ) async throws -> ExportResult {
        guard let result = try await exportLayerDisk(layer, diffID: diffID, to: output, options: options, limits: limits, orNeedsLowers: false)
        else { preconditionFailure("a build that may not give up for lower layers always ends with a disk") }
        return result
    }

    /// ``exportLayerDisk(_:diffID:to:options:limits:)``; with `orNeedsLowers`, `nil` (and no
    /// file) instead of the refusal when a hardlink names a file the layer does not have.
    func exportLayerDisk(
        _ layer: LayerSource, diffID: Digest, to output: URL, options: ExportOptions, limits: LayerLimits, orNeedsLowers: Bool
    ) async throws -> ExportResult? {
        try options.validate(for: .erofs)
        try LayerSource.checkMediaTypes([layer])
        return try await writeLayerDisk(key: diffID, to: output, options: options) { writer, flag in
            let builder = LayerModelBuilder(sink: writer.sink, limits: limits, cancellation: flag, mode: .overlayLayer)
            do {
                try builder.apply(layer)
            } catch LayerError.invalidHardlink where orNeedsLowers && builder.needsLowerLayers {
                return nil
            }
            return builder.model
        }
    }

    /// Writes one layer disk: `build` fills the writer and returns the model (`nil`: give up,
    /// no file), then the erofs metadata, the dm-verity tree and the atomic rename.
    /// `key` (the diff_id, or the ChainID of a disk over lower layers) gives UUID and salt.
    func writeLayerDisk(
        key: Digest, to output: URL, options: ExportOptions,
        build: @escaping @Sendable (EROFSWriter, CancellationFlag) throws -> FilesystemModel?
    ) async throws -> ExportResult? {
        let clock = ContinuousClock()
        let start = clock.now
        let target = try AtomicOutput(finalPath: output.path)
        let writerOptions = EROFSWriterOptions(
            uuid: DiskIdentity(layerDiffID: key).uuidBytes, compression: options.erofsWriterCompression)
        let salt = options.appendsVerity(for: .erofs) ? Verity.salt(layerDiffID: key) : nil
        var verity: VerityInfo?
        do {
            // The blocks are hashed as the writer writes them; `nil`: the build gave up.
            let built: LayerDiskBuilt? = try await CancellationFlag.runBlocking { flag in
                let writer = try EROFSWriter(path: target.tempPath, options: writerOptions, veritySalt: salt)
                guard let model = try build(writer, flag) else { return nil }
                try writer.finish(model: model)
                return LayerDiskBuilt(levelZero: try writer.verityLevelZero())
            }
            guard let built else {
                target.discard()
                return nil
            }
            verity = try await DiskExporter.appendVerity(to: target.tempPath, salt: salt, levelZero: built.levelZero)
            try await BlockingExecutor.shared.run { try target.commit() }
        } catch {
            target.discard()
            throw error
        }
        return try DiskExporter.result(of: target, duration: clock.now - start, verity: verity)
    }
}

/// A layer disk's writer is done: the hashes it recorded for the dm-verity tree, if any.
private struct LayerDiskBuilt: Sendable {
    let levelZero: SpoolFile?
}
