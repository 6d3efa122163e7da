import Foundation
import Testing

@testable import ImageStore

/// A temp directory per test: `outside/` (a sentinel tree the hostile tars aim at) and `tars/`
/// (layers written by make-hostile.py). Layers are applied to a model (``model(_:limits:)``),
/// never to a host directory.
final class LayerScratch {
    let base: URL
    var outside: URL { base.appendingPathComponent("outside") }
    var tars: URL { base.appendingPathComponent("tars") }

    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hostile/make-hostile.py")

    init() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("layers-\(UUID().uuidString)")
        let manager = FileManager.default
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

    /// Everything outside the model: the sentinel tree (its own directory included) and the
    /// names in the base directory.
    func outsideSnapshot() throws -> [String: FileNode] {
        var snapshot = RawTreeSnapshot.take(outside)
        let manager = FileManager.default
        let names = try manager.contentsOfDirectory(atPath: base.path).map { "base:" + $0 }
        for name in names {
            snapshot[name] = FileNode(
                type: "?", mode: 0, uid: 0, gid: 0, size: 0, content: nil, linkTarget: nil, rdevMajor: 0, rdevMinor: 0,
                mtimeSeconds: 0, mtimeNanoseconds: 0, inode: 0, links: 0, xattrs: [:])
        }
        return snapshot
    }
}
