import Foundation

/// The build half of the pipeline, with no queue: reference → registry → content store →
/// layers → disk. ``ImageManager`` builds rows with it; `image-worker export` uses it alone, so
/// a foreground export never opens (or creates) the database.
public struct ImageBuilder: Sendable {
    /// Where every file lives.
    public let layout: DataLayout
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

    /// Makes the data directory and its `tmp/` private (0700), opens the content store under
    /// `layout` (creating it) and prepares a registry client.
    /// - Throws: `FileSystemError` when a directory cannot be made private (another user's
    ///   directory), `ContentStoreError` when the layout cannot be created.
    public init(
        layout: DataLayout, registry: RegistryConfiguration = RegistryConfiguration(),
        platform: Platform = .current, layerLimits: LayerLimits = .default,
        exportOptions: ExportOptions = ExportOptions(), downloadConcurrency: Int = 3
    ) throws {
        self.layout = layout
        try layout.prepare()
        self.store = try ContentStore(layout: layout)
        self.puller = ImagePuller(
            client: RegistryClient(configuration: registry), store: store, concurrency: downloadConcurrency)
        self.platform = platform
        self.layerLimits = layerLimits
        self.exportOptions = exportOptions
    }

    /// Resolves `reference` to its manifest and config, downloading no layer.
    /// - Throws: `RegistryError`, `ContentStoreError`.
    public func resolve(_ reference: ImageReference) async throws -> PulledImage {
        try await puller.pull(reference, platform: platform, includeLayers: false)
    }

    /// Starts downloading the layers of `reference` the store lacks and returns once the
    /// manifest and config are stored: layer N can be applied while layers N+1… download.
    /// - Throws: what resolving the manifest and config throws (`RegistryError`, `ContentStoreError`).
    public func pullStreaming(_ reference: ImageReference, progress: PullProgressHandler? = nil) async throws
        -> StreamingPull
    {
        try await puller.pullStreaming(reference, platform: platform, progress: progress)
    }

    /// Writes the disk of `image` to `output` (a temp file beside it, renamed when complete).
    ///
    /// Every format goes layers → in-memory model → native writer (ext4, erofs, cpio): no
    /// tree, no scratch, no privilege. `erofs-layers` converts the layers the data directory's
    /// ``LayerDiskStore`` lacks and writes the JSON list of the image's layer disks to `output`.
    /// - Parameters:
    ///   - arrivals: when each layer is in the store, for a streaming pull
    ///     (``ImagePuller/pullStreaming(_:platform:progress:)``); `nil` when all of them are.
    ///   - verity: whether an ext4 or erofs disk gets a dm-verity tree (a row's `verity`
    ///     column); `nil` keeps ``exportOptions``. The salt is always
    ///     ``Verity/salt(manifestDigest:)`` unless the options name one.
    ///   - progress: called as layers are applied with the layer bytes applied so far
    ///     (of ``PulledImage/layerBytes``); from a blocking thread, often, so keep it cheap.
    /// - Returns: the export result, with ``ExportResult/verity`` when a tree was appended.
    /// - Throws: `LayerError`, `DiskError`, `CancellationError`.
    public func buildDisk(
        _ image: PulledImage, format: DiskFormat, output: URL, verity: Bool? = nil,
        arrivals: LayerArrivals? = nil, progress: (@Sendable (_ appliedBytes: Int64) -> Void)? = nil
    ) async throws -> ExportResult {
        let sources = try image.layerSources()
        // The disk's UUID comes from what it is of, never from the scratch file name.
        var options = exportOptions
        options.identity = options.identity ?? DiskIdentity(manifestDigest: image.manifestDigest, format: format)
        options.verity = verity ?? options.verity
        options.veritySalt = options.veritySalt ?? Verity.salt(manifestDigest: image.manifestDigest)
        guard format.isSingleDisk else {
            // Layer disks are keyed by their layer, never by this image: no identity or salt.
            if let arrivals { for index in sources.indices { _ = try await arrivals.wait(index) } }
            return try await DiskExporter().exportLayerList(
                layers: sources, store: LayerDiskStore(directory: layout.layerDisks), to: output, options: options,
                limits: layerLimits, group: layout.diskGroup)
        }
        return try await DiskExporter().export(
            layers: sources, format: format, to: output, options: options, limits: layerLimits,
            arrivals: arrivals, progress: progress)
    }

    /// Pull and export in the foreground, writing the disk to `output` (what
    /// `image-worker export` runs); each layer is applied to the model as soon as it is stored.
    /// - Throws: as ``pullStreaming(_:progress:)`` and ``buildDisk(_:format:output:verity:arrivals:progress:)``.
    @discardableResult
    public func exportImage(
        _ reference: ImageReference, format: DiskFormat, to output: URL, progress: PullProgressHandler? = nil
    ) async throws -> ExportResult {
        let pull = try await pullStreaming(reference, progress: progress)
        return try await buildWhilePulling(pull, format: format, output: output).disk
    }

    /// Builds the disk of `pull` while its layers download (docs/layers.md, "Apply while
    /// downloading"): layer N is applied while its own bytes and layers N+1… arrive.
    ///
    /// The pull is awaited first, so a download's failure is the error reported (a build that
    /// read a bad blob fails too, less tellingly). When a blob had to be downloaded again from
    /// its start while its layer was being read (``LayerError/downloadVoided(layer:afterBytes:)``),
    /// the disk is built once more from the stored, verified blobs.
    /// - Parameters:
    ///   - pulled: called once every blob is stored, before the build is awaited (the worker
    ///     marks its row converting there).
    /// - Returns: the image with its downloads counted, and the disk.
    /// - Throws: as ``pullStreaming(_:progress:)`` and ``buildDisk(_:format:output:verity:arrivals:progress:)``.
    public func buildWhilePulling(
        _ pull: StreamingPull, format: DiskFormat, output: URL, verity: Bool? = nil,
        progress: (@Sendable (_ appliedBytes: Int64) -> Void)? = nil,
        pulled: @Sendable (PulledImage) async throws -> Void = { _ in }
    ) async throws -> (image: PulledImage, disk: ExportResult) {
        do {
            async let built = buildDisk(
                pull.image, format: format, output: output, verity: verity, arrivals: pull.arrivals, progress: progress)
            let image = try await pull.finish()
            try await pulled(image)
            do {
                return (image, try await built)
            } catch LayerError.downloadVoided {
                return (image, try await buildDisk(image, format: format, output: output, verity: verity, progress: progress))
            }
        } catch {
            pull.cancel()
            throw error
        }
    }
}
