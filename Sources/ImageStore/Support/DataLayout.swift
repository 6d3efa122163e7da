import Foundation

/// Where image-worker keeps its files under one data directory.
///
/// ```
/// <root>/
///   image-worker.db            SQLite database (+ -wal, -shm): the queue and the image records
///   oci/                       OCI image layout shared by every image and process
///     oci-layout, index.json
///     blobs/sha256/<hex>       manifests, configs and layers, verified by digest
///   disks/<repository>/<hex>[.verity].<format>
///                              finished disk files: repository of the first build, platform
///                              manifest digest hex, format (ext4, erofs, cpio; erofs-layers.json
///                              for the JSON list of an erofs-layers image's layer disks)
///   layers/<diff_id hex>[.verity].erofs
///                              erofs-layers: one disk per layer, shared by every image with it
///   tmp/                       temp files of builds in progress; anything here
///                              that no live lease owns is removed by recovery and gc
/// ```
///
/// The data directory and `tmp/` are 0700 (``prepare()`` creates them so and tightens them when
/// found wider): blobs and disks are files of other people's images, so no other local user may
/// enter. Nothing of an image is ever unpacked here: disks are written from an in-memory model.
///
/// Every path the worker writes is below `root`; a path from a layer or a registry never
/// chooses a location outside it.
public struct DataLayout: Sendable, Equatable {
    /// The data directory.
    public let root: URL
    /// The group that may read finished disks (`--disk-group`), or `nil`: only the worker's
    /// user reads them.
    ///
    /// With a group the data directory is 0710 (the group may pass through, not list),
    /// `disks/` 0750 and every disk file 0640, all of that group; `oci/` and `tmp/` stay 0700.
    public let diskGroup: gid_t?

    /// Uses `root` as the data directory (created on demand by the stages that write).
    public init(root: URL, diskGroup: gid_t? = nil) {
        self.root = root.standardizedFileURL
        self.diskGroup = diskGroup
    }

    /// `$IMAGE_WORKER_DATA`, or `/var/lib/image-worker`.
    public static var defaultRoot: URL {
        if let path = ProcessInfo.processInfo.environment["IMAGE_WORKER_DATA"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: "/var/lib/image-worker")
    }

    /// The SQLite database file.
    public var database: URL { root.appendingPathComponent("image-worker.db") }
    /// The OCI image layout that holds every blob.
    public var ociLayout: URL { root.appendingPathComponent("oci") }
    /// Finished disk files.
    public var disks: URL { root.appendingPathComponent("disks") }
    /// Per-layer erofs disks (`erofs-layers`), one per diff_id, shared by every image with the
    /// layer (``LayerDiskStore``). Outside ``disks``: gc's walk of ``disks`` never sees them.
    public var layerDisks: URL { root.appendingPathComponent("layers") }
    /// Temp files of builds in progress.
    public var scratch: URL { root.appendingPathComponent("tmp") }

    /// Creates the data directory, `tmp/`, `oci/`, `disks/` and `layers/` with mode 0700, or
    /// tightens them to 0700 (with a ``diskGroup``: the data directory 0710, `disks/` and
    /// `layers/` 0750 of that group).
    /// Blocking.
    /// - Throws: ``FileSystemError/unsafeDirectory(path:reason:)`` when one belongs to another
    ///   user or is not a directory, ``FileSystemError/io(path:operation:errno:)``.
    public func prepare() throws(FileSystemError) {
        try FileTree.makePrivateDirectory(
            root.path, mode: diskGroup == nil ? 0o700 : 0o710, followSymlinks: true, group: diskGroup)
        try FileTree.makePrivateDirectory(scratch.path, followSymlinks: false)
        try FileTree.makePrivateDirectory(ociLayout.path, followSymlinks: false)
        try FileTree.makePrivateDirectory(
            disks.path, mode: diskGroup == nil ? 0o700 : 0o750, followSymlinks: false, group: diskGroup)
        try FileTree.makePrivateDirectory(
            layerDisks.path, mode: diskGroup == nil ? 0o700 : 0o750, followSymlinks: false, group: diskGroup)
    }
}
