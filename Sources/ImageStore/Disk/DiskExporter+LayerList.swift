import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension DiskExporter {
    /// Builds an `erofs-layers` image: the layer disks `store` lacks, then the JSON list of all
    /// of them, base first (``ArtifactLayer``), at `output`.
    ///
    /// ```
    /// layers ─LayerDiskStore.ensure─▶ layers/<key>[.verity].erofs (converted only when missing)
    ///        ─▶ [ArtifactLayer] JSON ─▶ .<name>.tmp-<random> ─fsync─▶ rename ─▶ output
    /// ```
    ///
    /// - Parameters:
    ///   - layers: the manifest's layers, base first, each with its diff_id.
    ///   - store: where the layer disks live (``DataLayout/layerDisks``).
    ///   - output: the list's final path; its directory is created if needed.
    ///   - options: erofs compression and level, dm-verity on or off, for every layer disk.
    ///   - limits: bounds for hostile layers.
    ///   - group: the group that may read finished disks (``DataLayout/diskGroup``): a newly
    ///     converted layer disk becomes 0640 of it (0600 without one), as published disks do.
    /// - Returns: the list's path, the layer disks' summed sizes and the disks themselves
    ///   (``ExportResult/layers``).
    /// - Throws: what ``LayerDiskStore/ensure(_:options:limits:)`` throws,
    ///   ``DiskError/io(path:operation:errno:)``, `CancellationError`.
    public func exportLayerList(
        layers: [LayerSource], store: LayerDiskStore, to output: URL, options: ExportOptions = ExportOptions(),
        limits: LayerLimits = .default, group: gid_t? = nil
    ) async throws -> ExportResult {
        try options.validate(for: .erofsLayers)
        try LayerSource.checkMediaTypes(layers)
        let clock = ContinuousClock()
        let start = clock.now
        let disks = try await store.ensure(layers, options: options, limits: limits)
        let text = ArtifactLayer.json(disks.map(ArtifactLayer.init))
        let target = try AtomicOutput(finalPath: output.path)
        do {
            try await BlockingExecutor.shared.run {
                for disk in disks where disk.converted { try DiskExporter.share(disk.path, group: group) }
                try DiskExporter.write(text, to: target.tempPath)
                try target.commit()
            }
        } catch {
            target.discard()
            throw error
        }
        return ExportResult(
            path: target.finalPath, allocatedBytes: disks.reduce(0) { $0 + $1.allocatedBytes },
            apparentBytes: disks.reduce(0) { $0 + $1.apparentBytes }, duration: clock.now - start, layers: disks)
    }

    /// Makes a layer disk 0600, or 0640 of `group`: readable by the VM platform as a published disk is.
    private static func share(_ path: String, group: gid_t?) throws(DiskError) {
        if let group, chown(path, uid_t.max, group) != 0 { throw .io(path: path, operation: "chown", errno: errno) }
        guard chmod(path, group == nil ? 0o600 : 0o640) == 0 else { throw .io(path: path, operation: "chmod", errno: errno) }
    }

    /// Writes `text` to a new file at `path` (mode 0600).
    private static func write(_ text: String, to path: String) throws(DiskError) {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .withoutOverwriting)
        } catch {
            throw .io(path: path, operation: "write", errno: AtomicOutput.posixCode(of: error))
        }
        guard chmod(path, 0o600) == 0 else { throw .io(path: path, operation: "chmod", errno: errno) }
    }
}
