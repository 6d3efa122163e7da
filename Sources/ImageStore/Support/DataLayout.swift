import Foundation

/// Where image-worker keeps its files under one data directory.
///
/// ```
/// <root>/
///   image-worker.db            SQLite database (+ -wal, -shm): the queue and the image records
///   oci/                       OCI image layout shared by every image and process
///     oci-layout, index.json
///     blobs/sha256/<hex>       manifests, configs and layers, verified by digest
///   disks/<repository>/<hex>.<format>
///                              finished disk files: repository of the first build, platform
///                              manifest digest hex, format (ext4, erofs, cpio)
///   tmp/                       scratch trees and temp files of builds in progress; anything here
///                              that no live lease owns is removed by recovery and gc
/// ```
///
/// The data directory and `tmp/` are 0700 (``prepare()`` creates them so and tightens them when
/// found wider): an image's device nodes and setuid binaries are unpacked below, and blobs and
/// disks are files of other people's images, so no other local user may enter.
///
/// Every path the worker writes is below `root`; a path from a layer or a registry never
/// chooses a location outside it.
public struct DataLayout: Sendable, Equatable {
    /// The data directory.
    public let root: URL

    /// Uses `root` as the data directory (created on demand by the stages that write).
    public init(root: URL) {
        self.root = root.standardizedFileURL
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
    /// Scratch trees and temp files.
    public var scratch: URL { root.appendingPathComponent("tmp") }

    /// The name of the directory image-worker owns inside a `--scratch-dir` it is given: that
    /// directory may be shared (`/dev/shm`), so gc and recovery look only in here.
    public static let ownedScratchName = "image-worker-scratch"

    /// Creates the data directory and `tmp/` with mode 0700, or tightens them to 0700.
    /// Blocking.
    /// - Throws: ``FileSystemError/unsafeDirectory(path:reason:)`` when one belongs to another
    ///   user or is not a directory, ``FileSystemError/io(path:operation:errno:)``.
    public func prepare() throws(FileSystemError) {
        try FileTree.makePrivateDirectory(root.path, followSymlinks: true)
        try FileTree.makePrivateDirectory(scratch.path, followSymlinks: false)
    }
}
