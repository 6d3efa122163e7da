import Foundation

/// Builds an erofs image from a tree with `mkfs.erofs` (erofs-utils 1.5).
///
/// lz4hc compression by default (level configurable), uncompressed on request. Owners are kept
/// (`--all-root` is never passed). For a reproducible image the UUID is fixed and
/// `SOURCE_DATE_EPOCH` is set to the newest mtime in the tree: mkfs.erofs then uses it as the
/// build time in the superblock and clamps mtimes to it, which changes none of them. (`-T`
/// would overwrite every file's mtime with one value.)
struct ErofsExporter: Sendable {
    /// Compress with lz4hc (`true`) or store plainly.
    let compressed: Bool
    /// lz4hc level, or `nil` for mkfs.erofs's default.
    let level: Int?

    /// Writes the image of `rootfs` to `path`.
    ///
    /// - Throws: ``DiskError``, `CancellationError`.
    func export(rootfs: URL, to path: String, uuid: UUID) async throws {
        let latestMtime = try await CancellationFlag.runBlocking { flag in
            var latest: Int64 = 1
            try TreeWalker(root: rootfs).walk(isCancelled: { flag.isCancelled }) { entry in
                latest = max(latest, entry.mtime)
            }
            return latest
        }
        var arguments = ["--quiet", "-U", uuid.uuidString.lowercased()]
        if compressed {
            arguments.append("-zlz4hc" + (level.map { ",\($0)" } ?? ""))
        }
        arguments += [path, rootfs.path]
        try await ExternalTool(name: "mkfs.erofs").run(
            arguments, environment: ["SOURCE_DATE_EPOCH": String(latestMtime)])
    }
}
