import Foundation
import TestSupport
import Testing

@testable import ImageStore

/// The per-layer erofs disks of `erofs-layers` (``DiskExporter/exportLayerDisk(_:diffID:to:options:limits:)``),
/// checked by other people's tools and the kernel: `fsck.erofs` and `veritysetup verify` accept
/// every disk, and the disks loop-mounted and stacked with overlayfs (lowerdir = top layer
/// first) show exactly the image's merged tree, deletions included.
///
/// dm-verity: the disks are checked with `veritysetup verify` (userspace); they are mounted
/// through a verity device when the kernel has device-mapper, else plainly (the verity tree
/// sits after the filesystem, which never reads it).
@Suite("erofs layer disks under overlayfs", .serialized)
struct LayerDiskOverlayTests {
    static let isRoot = geteuid() == 0

    @Test(
        "the multilayer fixtures are refused: a later layer hardlinks a file of a lower one, which no single-layer disk can hold",
        arguments: ["multilayer", "multilayer-zstd", "multilayer-docker"])
    func fixtureCrossLayerHardlink(_ name: String) async throws {
        let layout = try await FixtureImages.layout(name)
        let expectedImage = try await FixtureImages.expected(name)
        let manifestDigest = try #require(expectedImage.manifestDigest)
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: Self.blob(layout, manifestDigest)))
        let config = try JSONDecoder().decode(
            ImageConfiguration.self, from: Data(contentsOf: Self.blob(layout, manifest.config.digest.description)))
        let diffIDs = try #require(config.rootfs?.diffIDs)
        try #require(diffIDs.count == manifest.layers.count && diffIDs.count > 1)
        let scratch = try TemporaryDirectory(prefix: "layer-fixture")
        defer { scratch.remove() }
        var refused: [String] = []
        for (descriptor, diffID) in zip(manifest.layers, diffIDs) {
            let source = LayerSource(descriptor: descriptor, file: Self.blob(layout, descriptor.digest.description))
            do {
                _ = try await DiskExporter().exportLayerDisk(
                    source, diffID: diffID, to: scratch.url.appendingPathComponent("\(diffID.encoded).erofs"))
            } catch let error as LayerError {
                #expect(HostileCase.caseName(error) == "invalidHardlink", "\(error)")
                refused.append("\(error)")
            }
        }
        #expect(refused.count == 1 && refused[0].contains("data/link-to-lower.txt"), "\(refused)")
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path)
        #expect(left.count == diffIDs.count - 1, "a refused layer leaves no file, temp or final: \(left)")
    }

    static let semanticCases = [
        "sem-whiteout", "sem-opaque-first", "sem-opaque-last", "sem-whiteout-same-layer", "sem-replace",
        "opaque-with-symlink-child", "whiteout-symlink-to-sentinel", "symlink-replaced-by-dir",
    ]

    @Test(
        "the overlay of the layer disks equals the merged model of the same layers, entry by entry",
        .enabled(if: isRoot, "loop and overlay mounts need root"), arguments: semanticCases)
    func semanticOverlay(_ name: String) async throws {
        let layerScratch = try LayerScratch()
        let sources = try layerScratch.layers(name)
        let (model, sink, _) = try layerScratch.model(name)
        let scratch = try TemporaryDirectory(prefix: "layer-overlay")
        defer { scratch.remove() }
        let layers = sources.enumerated().map { index, source in
            (source, Digest(sha256Hex: String(repeating: String(index + 1), count: 64)))
        }
        let stack = try await OverlayStack.build(layers, in: scratch.url)
        defer { stack.unmount() }
        let merged = RawTreeSnapshot.take(stack.merged)
        // The one known difference: a layer that writes into a directory without listing it
        // (sem-whiteout's `a/.wh.f1`) makes it 0755 root:root time 0, and overlayfs shows the
        // topmost copy of a directory. Such directories are compared without their time.
        let implicit = Set(merged.filter { $0.value.type == "d" && $0.value.mtimeSeconds == 0 }.keys)
        let differences = ModelSnapshot.differences(host: merged, model: ModelSnapshot.take(model, sink: sink))
            .filter { line in !implicit.contains { line.hasPrefix("\($0): host d 755 0:0 ") } }
        #expect(differences == [], "\(differences.joined(separator: "\n"))")
        #expect(implicit.subtracting(["."]).count <= 1, "\(implicit)")
    }

    @Test("a layer disk is byte-identical when built twice, and its UUID and salt come from the diff_id")
    func reproducible() async throws {
        let layerScratch = try LayerScratch()
        let source = try layerScratch.layers("sem-whiteout")[1]
        let diffID = Digest(sha256Hex: String(repeating: "ab", count: 32))
        let scratch = try TemporaryDirectory(prefix: "layer-twice")
        defer { scratch.remove() }
        let first = try await DiskExporter().exportLayerDisk(source, diffID: diffID, to: scratch.url.appendingPathComponent("a.erofs"))
        let second = try await DiskExporter().exportLayerDisk(source, diffID: diffID, to: scratch.url.appendingPathComponent("b.erofs"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: first.path)) == Data(contentsOf: URL(fileURLWithPath: second.path)))
        let verity = try #require(first.verity)
        #expect(verity.salt == Verity.hex(Verity.salt(layerDiffID: diffID)))
        #expect(first.verity == second.verity)
        let other = try await DiskExporter().exportLayerDisk(
            source, diffID: Digest(sha256Hex: String(repeating: "cd", count: 32)), to: scratch.url.appendingPathComponent("c.erofs"))
        #expect(other.verity?.rootHash != verity.rootHash, "another diff_id, another salt and root hash")
    }

    static func blob(_ layout: URL, _ digest: String) -> URL {
        layout.appendingPathComponent("blobs/sha256/" + digest.dropFirst("sha256:".count))
    }
}

/// Layer disks built, checked, loop-mounted and stacked under overlayfs.
struct OverlayStack {
    var merged: URL
    var mounts: [URL]

    /// Builds one disk per layer (lz4hc, verity on) in `directory`, checks each with
    /// `fsck.erofs` and `veritysetup verify`, mounts each and stacks them, top layer first.
    static func build(_ layers: [(LayerSource, Digest)], in directory: URL) async throws -> OverlayStack {
        var stack = OverlayStack(merged: directory.appendingPathComponent("merged"), mounts: [])
        var lowers: [String] = []
        do {
            for (index, (source, diffID)) in layers.enumerated() {
                let disk = directory.appendingPathComponent("\(diffID.encoded).verity.erofs")
                let result = try await DiskExporter().exportLayerDisk(source, diffID: diffID, to: disk)
                let verity = try #require(result.verity)
                try ShellCommand.run(
                    "veritysetup", ["verify", disk.path, disk.path, verity.rootHash, "--hash-offset=\(verity.hashOffset)"])
                let fsck = try ShellCommand.attempt("fsck.erofs", [disk.path])
                #expect(fsck.status == 0, "fsck.erofs layer \(index): \(fsck.output)")
                let mountPoint = directory.appendingPathComponent("layer-\(index)")
                try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
                try ShellCommand.run("mount", ["-t", "erofs", "-o", "loop,ro", disk.path, mountPoint.path])
                stack.mounts.append(mountPoint)
                lowers.insert(mountPoint.path, at: 0)
            }
            if lowers.count == 1 {
                // overlayfs without an upper directory wants two lower ones.
                let empty = directory.appendingPathComponent("empty")
                try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
                lowers.append(empty.path)
            }
            try FileManager.default.createDirectory(at: stack.merged, withIntermediateDirectories: true)
            try ShellCommand.run(
                "mount", ["-t", "overlay", "overlay", "-o", "ro,lowerdir=" + lowers.joined(separator: ":"), stack.merged.path])
            stack.mounts.append(stack.merged)
        } catch {
            stack.unmount()
            throw error
        }
        return stack
    }

    /// Unmounts the overlay, then every layer.
    func unmount() {
        for mountPoint in mounts.reversed() { _ = try? ShellCommand.attempt("umount", [mountPoint.path]) }
    }
}
