import Foundation

@testable import ImageStore

/// A fresh scratch directory per test suite instance, plus helpers to read disks back.
final class DiskScratch {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("disk-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// Loop-mounts `image` read-only, runs `body` on the mount point, unmounts.
    func withMounted<T>(_ image: URL, type: String, _ body: (URL) throws -> T) throws -> T {
        let mountPoint = url("mnt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        try ShellCommand.run("mount", ["-t", type, "-o", "loop,ro", image.path, mountPoint.path])
        defer { _ = try? ShellCommand.run("umount", [mountPoint.path]) }
        return try body(mountPoint)
    }

    /// Extracts a (possibly compressed) cpio archive with GNU cpio into a new directory.
    func extractWithCpio(_ archive: URL, compression: ExportOptions.Compression) throws -> URL {
        let plain: URL
        switch compression {
        case .none:
            plain = archive
        case .gzip, .zstd:
            plain = url("plain-\(UUID().uuidString).cpio")
            let tool = compression == .gzip ? "gzip" : "zstd"
            try ShellCommand.run("sh", ["-c", "\(tool) -dc \"$0\" > \"$1\"", archive.path, plain.path])
        }
        let target = url("cpio-x-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try ShellCommand.run("cpio", ["-idm", "--no-absolute-filenames", "--quiet"], in: target, stdin: plain)
        return target
    }

    /// Names of the files in `directory` that look like leftover temp files.
    func tempFiles(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".tmp-") }
    }
}
