import Foundation

/// The public facade of the pipeline, the counterpart of the Go original's `Manager`:
/// reference → registry → content store → layers → disk, with the queue in SQLite.
///
/// The worker drives it row by row; the CLI drives it for export, delete, gc and usage.
public struct ImageManager: Sendable {
    /// Where every file lives.
    public let layout: DataLayout
    /// The image rows and the build queue.
    public let queue: ImageQueue
    /// The blob cache shared by all images and processes.
    public let store: ContentStore
    /// Pulls manifests, configs and layers into ``store``.
    public let puller: ImagePuller
    /// The platform converted when a name resolves to an index.
    public let platform: Platform
    /// Bounds for hostile layers.
    public let layerLimits: LayerLimits
    /// How disks are written.
    public let exportOptions: ExportOptions

    /// Opens the content store under `layout` (creating it) and prepares a registry client.
    /// - Throws: `ContentStoreError` when the layout cannot be created.
    public init(
        layout: DataLayout, queue: ImageQueue, registry: RegistryConfiguration = RegistryConfiguration(),
        platform: Platform = .current, layerLimits: LayerLimits = .default,
        exportOptions: ExportOptions = ExportOptions(), downloadConcurrency: Int = 3
    ) throws {
        self.layout = layout
        self.queue = queue
        self.store = try ContentStore(layout: layout)
        self.puller = ImagePuller(
            client: RegistryClient(configuration: registry), store: store, concurrency: downloadConcurrency)
        self.platform = platform
        self.layerLimits = layerLimits
        self.exportOptions = exportOptions
    }

    // MARK: - Build steps

    /// Resolves `reference` to its manifest and config, downloading no layer.
    /// - Throws: `RegistryError`, `ContentStoreError`.
    public func resolve(_ reference: ImageReference) async throws -> PulledImage {
        try await puller.pull(reference, platform: platform, includeLayers: false)
    }

    /// Downloads the layers of `reference` that the store lacks.
    /// - Throws: `RegistryError`, `ContentStoreError`, `CancellationError`.
    public func pull(_ reference: ImageReference, progress: PullProgressHandler? = nil) async throws -> PulledImage {
        try await puller.pull(reference, platform: platform, progress: progress)
    }

    /// Applies the layers of `image` into `buildDirectory/rootfs`, writes the disk to
    /// `buildDirectory/disk.<ext>` and removes the tree. The caller owns `buildDirectory`.
    /// - Returns: the export result (its path is inside `buildDirectory`).
    /// - Throws: `LayerError`, `DiskError`, `CancellationError`.
    public func buildDisk(_ image: PulledImage, format: DiskFormat, buildDirectory: URL) async throws -> ExportResult {
        let rootfs = buildDirectory.appendingPathComponent("rootfs", isDirectory: true)
        try FileManager.default.createDirectory(at: rootfs, withIntermediateDirectories: true)
        let sources = image.layers.map {
            LayerSource(digest: $0.descriptor.digest, mediaType: $0.descriptor.mediaType, file: $0.path)
        }
        _ = try await LayerApplier(limits: layerLimits).apply(layers: sources, to: rootfs)
        let output = buildDirectory.appendingPathComponent("disk.\(format.fileExtension)")
        let result = try await DiskExporter().export(rootfs: rootfs, format: format, to: output, options: exportOptions)
        try? await BlockingExecutor.shared.run { try FileManager.default.removeItem(at: rootfs) }
        return result
    }

    /// Pull, apply and export in the foreground, writing the disk to `output` (what
    /// `image-worker export` runs). Scratch lives under the data directory and is removed.
    /// - Throws: as ``pull(_:progress:)`` and ``buildDisk(_:format:buildDirectory:)``.
    @discardableResult
    public func exportImage(
        _ reference: ImageReference, format: DiskFormat, to output: URL, progress: PullProgressHandler? = nil
    ) async throws -> ExportResult {
        let build = layout.scratch.appendingPathComponent("export-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: build) }
        try FileManager.default.createDirectory(at: build, withIntermediateDirectories: true)
        let image = try await pull(reference, progress: progress)
        let disk = try await buildDisk(image, format: format, buildDirectory: build)
        try DiskFile.moveIntoPlace(URL(fileURLWithPath: disk.path), to: output)
        return ExportResult(
            path: output.path, allocatedBytes: disk.allocatedBytes, apparentBytes: disk.apparentBytes,
            duration: disk.duration)
    }

    /// The scratch directory of one claim: `tmp/build-<id>-<token>`.
    public func buildDirectory(for claim: Claim) -> URL {
        layout.scratch.appendingPathComponent("build-\(claim.id)-\(claim.token)", isDirectory: true)
    }
}
