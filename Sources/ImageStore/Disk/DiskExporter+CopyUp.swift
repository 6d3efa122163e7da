import Foundation

extension DiskExporter {
    /// Builds the erofs disk of layer k over its lower layers 0..k-1: like
    /// ``exportLayerDisk(_:diffID:to:options:limits:)``, but a hardlink to a file of a lower
    /// layer copies that file up into this disk first, as containerd applies a layer onto the
    /// overlay mount of its lower layers (`LayerModelBuilder+CopyUp.swift`).
    ///
    /// ```
    /// 1. lowers ─▶ LayerModelBuilder(.merged) ─▶ CountingDataSink        lower tree, no data read
    /// 2. layer  ─▶ LayerModelBuilder(.overlayLayer, lower: tree) ─▶ EROFSWriter sink
    ///              (a lower link target is copied up; its content is still the counted call)
    /// 3. lowers ─▶ LayerModelBuilder(.merged) ─▶ ForwardingDataSink ─▶ the same EROFSWriter sink
    ///              (only the calls storing copied-up contents pass; their ids go to the copies)
    /// 4. EROFSWriter.finish ─▶ dm-verity tree (salt = Verity.salt(layerDiffID: chainID)) ─▶ rename
    /// ```
    ///
    /// The lower layers are read twice, their data only for the copied files; the layer once.
    /// (Scanning the layer first for its link targets would read it twice instead: the layer's
    /// own pass finds the targets as it goes, and the copies' bytes can come after it.)
    /// The disk depends on the lower layers, so UUID and salt derive from `chainID`
    /// (``ChainID/of(_:)`` of layers 0..k), not the diff_id.
    ///
    /// - Parameters:
    ///   - layer: the layer blob.
    ///   - lowers: layers 0..k-1, base first.
    ///   - chainID: the ChainID of `lowers` plus `layer`.
    ///   - output: the final path; its directory is created if needed.
    ///   - options: erofs compression and level, verity on or off.
    ///   - limits: bounds for hostile layers (the lower layers together count as a merge).
    /// - Returns: the size, duration and verity figures of the disk.
    /// - Throws: ``LayerError`` for any of the layers
    ///   (``LayerError/invalidHardlink(layer:path:target:reason:)`` for a target neither the
    ///   layer nor its lower layers have), the erofs writer's ``DiskError`` cases,
    ///   ``DiskError/io(path:operation:errno:)``, `CancellationError`.
    public func exportLayerDisk(
        _ layer: LayerSource, over lowers: [LayerSource], chainID: Digest, to output: URL,
        options: ExportOptions = ExportOptions(), limits: LayerLimits = .default
    ) async throws -> ExportResult {
        try options.validate(for: .erofs)
        try LayerSource.checkMediaTypes(lowers + [layer])
        let result = try await writeLayerDisk(key: chainID, to: output, options: options) { writer, flag in
            let counted = LayerModelBuilder(sink: CountingDataSink(), limits: limits, cancellation: flag)
            for lower in lowers { try counted.apply(lower) }
            let builder = LayerModelBuilder(
                sink: writer.sink, limits: limits, cancellation: flag, mode: .overlayLayer, lower: counted.model)
            try builder.apply(layer)
            guard let copyUp = builder.copyUp else { return builder.model }
            let wanted = copyUp.contentSources()
            guard !wanted.isEmpty else { return builder.model }
            let forwarding = ForwardingDataSink(wanted: Set(wanted.keys), to: writer.sink)
            let again = LayerModelBuilder(sink: forwarding, limits: limits, cancellation: flag)
            for lower in lowers { try again.apply(lower) }
            for (content, uppers) in wanted {
                guard let stored = forwarding.forwarded[content] else {
                    throw LayerError.corruptArchive(
                        layer: lowers.last?.digest ?? layer.digest, path: nil,
                        message: "the lower layers read differently the second time (a blob changed while in use)")
                }
                for upper in uppers {
                    var inode = builder.model[upper]
                    inode.content = stored
                    builder.model[upper] = inode
                }
            }
            return builder.model
        }
        guard let result else { preconditionFailure("a copy-up build never gives up") }
        return result
    }
}
