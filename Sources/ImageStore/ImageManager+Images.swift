import Foundation

/// The Go original's `Manager` interface, one method per seed method: list, create, import,
/// get, delete (the maintenance half, `RecoverInterruptedBuilds`, `TotalImageBytes` and
/// `TotalOCICacheBytes`, is in `ImageManager+Maintenance.swift`). Every answer is an ``Image``
/// read from the `image_status` view, so a Swift caller, the CLI and a SQL-only client see the
/// same values. The build itself happens in whichever `image-worker worker` process claims the
/// row; these methods never download or convert.
///
/// ```swift
/// let manager = try await ImageManager.open(layout: DataLayout(root: URL(fileURLWithPath: "/var/lib/image-worker")))
/// var image = try await manager.createImage("alpine:3.20")      // pending, queuePosition 1
/// while !image.status.isSettled { try await Task.sleep(for: .milliseconds(200)); image = try await manager.getImage(id: image.id) }
/// // image.diskPath, image.entrypoint, image.cmd, image.env, image.workingDir, image.user
/// ```
extension ImageManager {
    /// Opens the database at `database` (default `<layout.root>/image-worker.db`, applying
    /// pending migrations) and the content store under `layout`.
    /// - Parameter host: this host's id in a fleet (``ImageQueue/host``); `nil`: the backend's
    ///   default (``ImageQueue/defaultHost(for:)``).
    /// - Throws: `StoreError`, `MigrationError`, `ContentStoreError`.
    public static func open(
        layout: DataLayout, database: String? = nil, host: String? = nil,
        registry: RegistryConfiguration = RegistryConfiguration(), platform: Platform = .current
    ) async throws -> ImageManager {
        try FileManager.default.createDirectory(at: layout.root, withIntermediateDirectories: true)
        let queue = try await ImageQueue.open(path: database ?? layout.database.path, host: host)
        return try ImageManager(
            layout: layout, queue: queue, registry: registry, platform: platform)
    }

    /// Every image, oldest first: pending, in flight, ready and failed (the seed's `ListImages`,
    /// which skipped rows without metadata).
    /// - Throws: `StoreError`.
    public func listImages() async throws -> [Image] {
        try await queue.images()
    }

    /// Asks for `reference` as a `format` disk (the seed's `CreateImage`). When a row of that
    /// format already names the image (as typed or normalized) and is pending or building, it
    /// is returned with its current queue position and nothing is added; a ready one is
    /// returned as is; a failed one is retried. Otherwise a pending row is added. The name is
    /// checked here (so a name that can never resolve fails now, not in a worker) but not
    /// resolved: the registry is asked by the worker that claims the row.
    /// - Parameters:
    ///   - reference: as the user typed it; the row keeps this text as its `name`.
    ///   - format: `ext4`, `erofs` or `cpio`.
    ///   - priority: larger is claimed first.
    /// - Returns: the image, `pending` with a ``Image/queuePosition`` for a new row.
    /// - Throws: `ReferenceError` for an invalid name (the seed's `ErrInvalidName`),
    ///   `QueueError.unsupportedFormat`, `StoreError`.
    ///   - targetHost: pins the row to the host of that id (only its workers build it, the disk
    ///     is in its data directory); `nil`: any host.
    @discardableResult
    public func createImage(_ reference: String, format: String = "ext4", priority: Int = 0, targetHost: String? = nil)
        async throws -> Image
    {
        try await createImageReportingOutcome(reference, format: format, priority: priority, targetHost: targetHost)
            .image
    }

    /// ``createImage(_:format:priority:targetHost:)`` that also says whether a row was added,
    /// reused or retried.
    public func createImageReportingOutcome(
        _ reference: String, format: String = "ext4", priority: Int = 0, targetHost: String? = nil
    ) async throws -> (image: Image, outcome: ImageQueue.CreateOutcome) {
        let parsed = try ImageReference(parsing: reference)
        let (id, outcome) = try await queue.createImage(
            parsed, as: reference, format: format, priority: priority, targetHost: targetHost,
            now: ImageQueue.nowMilliseconds())
        return (try await queue.image(id: id), outcome)
    }

    /// Imports an OCI image layout directory or oci-archive tarball into the content store and
    /// asks for it by digest (the seed's `ImportLocalImage`): the row is named
    /// `<repository of name>@<digest>`, so the worker converts it from the store without
    /// asking any registry.
    /// - Parameters:
    ///   - source: the layout directory or tar file.
    ///   - name: the name the image is recorded under in the store's index, e.g. `local/app:1`.
    ///   - tag: the `org.opencontainers.image.ref.name` to pick when the layout holds several.
    ///   - platform: chosen from a multi-platform layout (default: this manager's).
    /// - Returns: the image of the digest row (a new pending one, or the existing one).
    /// - Throws: `ReferenceError`, `ContentStoreError` (`.invalidLayout`, `.tagNotFound`,
    ///   `.blobMissing`, `.digestMismatch`, `.extractFailed`), `RegistryError.platformNotFound`,
    ///   `QueueError.unsupportedFormat`, `StoreError`.
    @discardableResult
    public func importLocalImage(
        from source: URL, as name: String, tag: String? = nil, platform: Platform? = nil, format: String = "ext4",
        priority: Int = 0
    ) async throws -> Image {
        let pulled = try await importImage(from: source, as: name, tag: tag, platform: platform)
        return try await createImage(
            pulled.reference.withDigest(pulled.resolvedDigest).description, format: format, priority: priority)
    }

    /// Imports an OCI layout or oci-archive into the content store only (no row): the first half
    /// of ``importLocalImage(from:as:tag:platform:format:priority:)``.
    /// - Throws: as ``importLocalImage(from:as:tag:platform:format:priority:)``.
    public func importImage(from source: URL, as name: String, tag: String? = nil, platform: Platform? = nil)
        async throws -> PulledImage
    {
        let reference = try ImageReference(parsing: name)
        let importer = ImageImporter(store: store, scratch: layout.scratch)
        return try await importer.importImage(
            from: source, tag: tag, as: reference, platform: platform ?? builder.platform)
    }

    /// The image `reference` names (the seed's `GetImage`): by name as typed or normalized
    /// (`alpine` finds rows named `alpine:latest` or `docker.io/library/alpine`), by digest or
    /// by manifest digest. Several rows may match (one per format, or a tag and
    /// a digest): the newest of `format` when given, else the newest.
    /// - Throws: `QueueError.notFound` (the seed's `ErrNotFound`), `StoreError`.
    public func getImage(_ reference: String, format: String? = nil) async throws -> Image {
        let images = try await queue.images(matching: reference)
        guard let image = images.last(where: { format == nil || $0.format == format }) else {
            throw QueueError.notFound(reference: format.map { "\(reference) (\($0))" } ?? reference)
        }
        return image
    }

    /// Every image `reference` matches, as ``getImage(_:format:)`` matches, oldest first.
    /// - Throws: `QueueError.notFound`, `StoreError`.
    public func images(matching reference: String) async throws -> [Image] {
        try await queue.images(matching: reference)
    }

    /// The image of row `id` (what ``createImage(_:format:priority:targetHost:)`` returned), for following it.
    /// - Throws: `QueueError.notFound` once the row was deleted, `StoreError`.
    public func getImage(id: Int) async throws -> Image {
        try await queue.image(id: id)
    }
}
