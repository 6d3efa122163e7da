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
        "the multilayer fixtures' layer disks, one copying up the lower file a later layer hardlinks, equal the merged model under overlayfs",
        .enabled(if: isRoot, "loop and overlay mounts need root"),
        arguments: ["multilayer", "multilayer-zstd", "multilayer-docker"])
    func fixtureOverlay(_ name: String) async throws {
        let layout = try await FixtureImages.layout(name)
        let expectedImage = try await FixtureImages.expected(name)
        let manifestDigest = try #require(expectedImage.manifestDigest)
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: Self.blob(layout, manifestDigest)))
        let config = try JSONDecoder().decode(
            ImageConfiguration.self, from: Data(contentsOf: Self.blob(layout, manifest.config.digest.description)))
        let diffIDs = try #require(config.rootfs?.diffIDs)
        try #require(diffIDs.count == manifest.layers.count && diffIDs.count > 1)
        let sources = zip(manifest.layers, diffIDs).map { descriptor, diffID in
            var source = LayerSource(descriptor: descriptor, file: Self.blob(layout, descriptor.digest.description))
            source.diffID = diffID
            return source
        }
        let sink = MemorySink()
        let builder = LayerModelBuilder(sink: sink)
        for source in sources { try builder.apply(source) }
        let scratch = try TemporaryDirectory(prefix: "layer-fixture")
        defer { scratch.remove() }
        let stack = try await OverlayStack.build(sources, in: scratch.url)
        defer { stack.unmount() }
        let chained = stack.disks.enumerated().filter { $0.element.path.hasSuffix(".chain.verity.erofs") }.map(\.offset)
        // Built alone, exactly that layer is refused.
        var linking: [Int] = []
        for (index, source) in sources.enumerated() {
            do {
                _ = try await DiskExporter().exportLayerDisk(
                    source, diffID: diffIDs[index], to: scratch.url.appendingPathComponent("alone-\(index).erofs"))
            } catch let error as LayerError {
                #expect(HostileCase.caseName(error) == "invalidHardlink" && "\(error)".contains("data/link-to-lower.txt"))
                linking.append(index)
            }
        }
        #expect(linking.count == 1 && chained == linking, "only the layer linking a lower file is built over its lower layers")
        let merged = RawTreeSnapshot.take(stack.merged)
        // RawTreeSnapshot reads files up to 1 MiB; the bigger ones are compared here.
        var model = ModelSnapshot.take(builder.model, sink: sink)
        for (path, node) in model where node.type == "f" && node.size > 1 << 20 {
            let host = try Data(contentsOf: stack.merged.appendingPathComponent(path))
            #expect(Array(host) == node.content, "\(path): the content differs")
            model[path]?.content = nil
        }
        let differences = Self.differences(merged, model)
        #expect(differences == [], "\(differences.joined(separator: "\n"))")
        #expect(merged["data/link-to-lower.txt"]?.inode == merged["opt/lower-target.txt"]?.inode)
        #expect(merged["data/link-to-lower.txt"]?.content == Array("hardlinked from layer 2\n".utf8))
    }

    static let semanticCases = [
        "sem-whiteout", "sem-opaque-first", "sem-opaque-last", "sem-whiteout-same-layer", "sem-replace",
        "opaque-with-symlink-child", "whiteout-symlink-to-sentinel", "symlink-replaced-by-dir", "copyup-link",
        "copyup-opaque-after",
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
        let layers = try sources.map { source in
            var source = source
            try #require(source.mediaType == MediaType.ociLayer, "\(name) must be plain tars")
            source.diffID = SHA256.digest(of: try Data(contentsOf: source.file))
            return source
        }
        let stack = try await OverlayStack.build(layers, in: scratch.url)
        defer { stack.unmount() }
        let merged = RawTreeSnapshot.take(stack.merged)
        let differences = Self.differences(merged, ModelSnapshot.take(model, sink: sink))
        #expect(differences == [], "\(differences.joined(separator: "\n"))")
        let implicit = Set(merged.filter { $0.value.type == "d" && $0.value.mtimeSeconds == 0 }.keys)
        #expect(implicit.subtracting(["."]).count <= 1, "\(implicit)")
    }

    /// The differences between the overlay and the model, but for the one known one: a layer
    /// that writes into a directory without listing it (sem-whiteout's `a/.wh.f1`) makes it
    /// 0755 root:root time 0, and overlayfs shows the topmost copy of a directory. Such
    /// directories are compared without their time.
    static func differences(_ merged: [String: FileNode], _ model: [String: FileNode]) -> [String] {
        let implicit = Set(merged.filter { $0.value.type == "d" && $0.value.mtimeSeconds == 0 }.keys)
        return ModelSnapshot.differences(host: merged, model: model)
            .filter { line in !implicit.contains { line.hasPrefix("\($0): host d 755 0:0 ") } }
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
    /// The disks ``LayerDiskStore`` made, base first.
    var disks: [LayerDisk] = []

    /// Builds the disks of `layers` (each with its real diff_id) with ``LayerDiskStore`` in
    /// `directory` (lz4hc, verity on), checks each with `fsck.erofs` and `veritysetup verify`,
    /// mounts each and stacks them, top layer first.
    static func build(_ layers: [LayerSource], in directory: URL) async throws -> OverlayStack {
        var stack = OverlayStack(merged: directory.appendingPathComponent("merged"), mounts: [])
        var lowers: [String] = []
        do {
            stack.disks = try await LayerDiskStore(directory: directory.appendingPathComponent("disks"))
                .ensure(layers, options: ExportOptions())
            for (index, disk) in stack.disks.enumerated() {
                let verity = try #require(disk.verity)
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
