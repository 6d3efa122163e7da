import Foundation
import Testing

@testable import ImageStore

/// A temp directory per test: `outside/` (a sentinel tree the hostile tars aim at),
/// `scratch/root/` (the root filesystem) and `tars/` (layers written by make-hostile.py).
final class LayerScratch {
    let base: URL
    var outside: URL { base.appendingPathComponent("outside") }
    var scratch: URL { base.appendingPathComponent("scratch") }
    var root: URL { scratch.appendingPathComponent("root") }
    var tars: URL { base.appendingPathComponent("tars") }

    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hostile/make-hostile.py")

    init() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("layers-\(UUID().uuidString)")
        let manager = FileManager.default
        try manager.createDirectory(at: root, withIntermediateDirectories: true)
        try manager.createDirectory(at: tars, withIntermediateDirectories: true)
        try manager.createDirectory(at: outside.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("sentinel file\n".utf8).write(to: outside.appendingPathComponent("file"))
        try Data("nested\n".utf8).write(to: outside.appendingPathComponent("sub/nested"))
        try Data("x".utf8).write(to: outside.appendingPathComponent("x"))
        try manager.setAttributes([.posixPermissions: 0o750], ofItemAtPath: outside.path)
    }

    deinit {
        try? FileManager.default.removeItem(at: base)
    }

    /// Runs make-hostile.py for `name` and returns its layers in apply order.
    func layers(_ name: String) throws -> [LayerSource] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [LayerScratch.script.path, "--out", tars.path, "--sentinel", outside.path, name]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "make-hostile.py \(name) failed")
        let list = try String(contentsOf: tars.appendingPathComponent("\(name).layers"), encoding: .utf8)
        return list.split(separator: "\n").enumerated().map { index, file in
            let mediaType =
                file.hasSuffix(".gz") ? MediaType.ociLayerGzip : file.hasSuffix(".zst") ? MediaType.ociLayerZstd : MediaType.ociLayer
            return LayerSource(
                digest: LayerScratch.digest(index), mediaType: mediaType, file: tars.appendingPathComponent(String(file)))
        }
    }

    /// A distinct made-up digest per layer index, for messages.
    static func digest(_ index: Int) -> Digest {
        Digest(sha256Hex: String(repeating: String(index % 10), count: 64))
    }

    /// Applies the layers of `name` to ``root``.
    @discardableResult
    func apply(_ name: String, limits: LayerLimits = .default) async throws -> LayerStatistics {
        try await LayerApplier(limits: limits).apply(layers: try layers(name), to: root)
    }

    /// Everything outside the root filesystem: the sentinel tree (its own directory included)
    /// and the names in the base and scratch directories.
    func outsideSnapshot() throws -> [String: FileNode] {
        var snapshot = LayerTreeSnapshot.take(outside)
        let manager = FileManager.default
        let names = try manager.contentsOfDirectory(atPath: base.path).map { "base:" + $0 }
            + manager.contentsOfDirectory(atPath: scratch.path).map { "scratch:" + $0 }
        for name in names {
            snapshot[name] = FileNode(
                type: "?", mode: 0, uid: 0, gid: 0, size: 0, content: nil, linkTarget: nil, rdevMajor: 0, rdevMinor: 0,
                mtimeSeconds: 0, mtimeNanoseconds: 0, inode: 0, links: 0, xattrs: [:])
        }
        return snapshot
    }

    /// The tree of the root filesystem.
    func tree() -> [String: FileNode] { LayerTreeSnapshot.take(root) }
}
