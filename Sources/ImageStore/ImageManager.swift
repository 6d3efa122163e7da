import Foundation

/// The public facade of the pipeline, the counterpart of the Go original's `Manager`: the
/// queue in SQLite (or PostgreSQL) beside the ``ImageBuilder`` that turns a row's reference
/// into its disk.
///
/// The worker drives it row by row; the CLI drives it for enqueue, list, delete, gc and usage
/// (`export` and `fetch` need no queue and use the builder alone).
public struct ImageManager: Sendable {
    /// The build steps (pull, model, disk), which never touch the queue.
    public let builder: ImageBuilder
    /// The image rows and the build queue.
    public let queue: ImageQueue

    /// Where every file lives.
    public var layout: DataLayout { builder.layout }
    /// The blob cache shared by all images and processes.
    public var store: ContentStore { builder.store }

    /// Opens the content store under `layout` (``ImageBuilder/init(layout:registry:platform:layerLimits:exportOptions:downloadConcurrency:)``)
    /// beside `queue`.
    /// - Throws: as that initializer.
    public init(
        layout: DataLayout, queue: ImageQueue, registry: RegistryConfiguration = RegistryConfiguration(),
        platform: Platform = .current, layerLimits: LayerLimits = .default,
        exportOptions: ExportOptions = ExportOptions(), downloadConcurrency: Int = 3
    ) throws {
        self.builder = try ImageBuilder(
            layout: layout, registry: registry, platform: platform, layerLimits: layerLimits,
            exportOptions: exportOptions, downloadConcurrency: downloadConcurrency)
        self.queue = queue
    }

    /// The scratch name of one claim, `build-<id>-<token>`: a directory of that name under the
    /// data directory's `tmp/` holds the disk being written.
    public func scratchName(for claim: Claim) -> String { "build-\(claim.id)-\(claim.token)" }

    /// Removes the scratch directory named `name` under the data directory's `tmp/` with
    /// ``FileTree/remove(_:)``. Blocking.
    /// - Throws: `FileSystemError` naming the entry that could not be removed.
    public func removeScratch(named name: String) throws(FileSystemError) {
        try FileTree.remove(layout.scratch.appendingPathComponent(name, isDirectory: true).path)
    }
}
