import Foundation
import ImageStore
import TestSupport
import Testing

/// Every fixture image in every format, through the real pipeline (registry → `image-worker
/// export`), read back with the kernel or the archive tools and compared with the fixture's
/// hand-built expectation (expected.json): type, mode, owner, size, content hash, symlink
/// target, hardlink groups, xattrs and device numbers. Zero differences allowed.
@Suite("exported disks read back equal to the image", .serialized)
struct ExportReadBackTests {
    static let cases: [(String, String)] = [
        "multilayer", "multilayer-zstd", "multilayer-uncompressed", "multilayer-docker", "multiarch",
        "multiarch-docker",
    ].flatMap { image in ["ext4", "erofs", "cpio"].map { (image, $0) } }

    @Test("the disk holds exactly the image's tree", arguments: cases)
    func readsBack(image: String, format: String) async throws {
        let scratch = try TemporaryDirectory(prefix: "readback")
        defer { scratch.remove() }
        let registry = try await SharedRegistries.shared.registry(.plain)
        try await registry.push(layout: try await FixtureImages.layout(image), repository: "readback/\(image)", tag: "v1")
        let disk = scratch.url.appendingPathComponent("disk.\(format)")
        // Trees unpack on a tmpfs when one exists (what `--scratch-dir` is for); the disk still
        // lands on the output's filesystem.
        let shm = URL(fileURLWithPath: "/dev/shm")
        let treeScratch = (FileManager.default.fileExists(atPath: shm.path) ? shm : scratch.url)
            .appendingPathComponent("readback-tree-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: treeScratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: treeScratch) }
        let export = try await ProcessRunner.run(
            Child.imageWorker,
            ["export", registry.reference(repository: "readback/\(image)", tag: "v1"), "--format", format,
             "-o", disk.path, "--data-dir", scratch.url.appendingPathComponent("data").path,
             "--scratch-dir", treeScratch.path])
        // image-worker works only in its own subdirectory of --scratch-dir, and empties it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: treeScratch.path) == [DataLayout.ownedScratchName])
        #expect(
            try FileManager.default.contentsOfDirectory(
                atPath: treeScratch.appendingPathComponent(DataLayout.ownedScratchName).path
            ).isEmpty, "tree scratch left behind")
        try #require(export.status == 0, "export failed: \(export.output)")

        let expectedImage = try await FixtureImages.expected(image)
        let expected = try #require(expectedImage.tree ?? expectedImage.platforms?["linux/amd64"]?.tree)
        let root = scratch.url.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var actual: [String: TreeNode]
        switch format {
        case "cpio":
            try await ProcessRunner.check(
                "sh", ["-c", "cd \"$1\" && cpio -idm --quiet --no-absolute-filenames < \"$2\"", "sh", root.path, disk.path])
            actual = try await FixtureImages.scanTree(root)
        default:
            let check = format == "ext4" ? ("e2fsck", ["-fn", disk.path]) : ("fsck.erofs", [disk.path])
            let fsck = try await ProcessRunner.run(check.0, check.1)
            #expect(fsck.status == 0, "\(check.0) found problems: \(fsck.output)")
            try await ProcessRunner.check("mount", ["-o", "loop,ro", "-t", format, disk.path, root.path])
            do {
                actual = try await FixtureImages.scanTree(root)
                try await ProcessRunner.check("umount", [root.path])
            } catch {
                _ = try? await ProcessRunner.run("umount", [root.path])
                throw error
            }
            if format == "ext4" { actual["lost+found"] = nil }
        }
        actual[""] = nil
        actual["."] = nil
        var expectedTree = expected
        expectedTree[""] = nil
        expectedTree["."] = nil
        // newc has no field for extended attributes: a cpio initramfs cannot carry them (README).
        let ignoreXattrs = format == "cpio"
        let differences = Set(expectedTree.keys).union(actual.keys).sorted().compactMap { path -> String? in
            Self.same(expectedTree[path], actual[path], ignoringXattrs: ignoreXattrs)
                ? nil : "\(path): expected \(String(describing: expectedTree[path])), found \(String(describing: actual[path]))"
        }
        #expect(differences.isEmpty, "\(differences.count) differences:\n\(differences.prefix(20).joined(separator: "\n"))")
        if format == "ext4" {
            // The old path as an oracle: the directory applier's tree of the same layers.
            let manifestDigest = try #require(expectedImage.manifestDigest ?? expectedImage.platforms?["linux/amd64"]?.manifestDigest)
            var oracle = try await Self.directoryApplierTree(layout: try await FixtureImages.layout(image), manifest: manifestDigest)
            oracle[""] = nil
            oracle["."] = nil
            let disagreements = Set(oracle.keys).union(actual.keys).sorted().compactMap { path -> String? in
                oracle[path] == actual[path] ? nil : "\(path): oracle \(String(describing: oracle[path])), disk \(String(describing: actual[path]))"
            }
            #expect(disagreements.isEmpty, "\(disagreements.count) differences from the directory applier:\n\(disagreements.prefix(20).joined(separator: "\n"))")
        }
    }

    /// The tree `LayerApplier` (the directory applier, root only) writes for the layers of
    /// `manifest` in the OCI layout `layout`.
    static func directoryApplierTree(layout: URL, manifest: String) async throws -> [String: TreeNode] {
        func blob(_ digest: String) -> URL { layout.appendingPathComponent("blobs/sha256/" + digest.dropFirst("sha256:".count)) }
        let decoded = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: blob(manifest)))
        let layers = decoded.layers.map { LayerSource(descriptor: $0, file: blob($0.digest.description)) }
        let scratch = try TemporaryDirectory(prefix: "oracle")
        defer { scratch.remove() }
        let rootfs = scratch.url.appendingPathComponent("rootfs")
        try FileManager.default.createDirectory(at: rootfs, withIntermediateDirectories: true)
        _ = try await LayerApplier().apply(layers: layers, to: rootfs)
        return try await FixtureImages.scanTree(rootfs)
    }

    static func same(_ expected: TreeNode?, _ actual: TreeNode?, ignoringXattrs: Bool) -> Bool {
        guard ignoringXattrs, let expected, let actual else { return expected == actual }
        return expected.type == actual.type && expected.mode == actual.mode && expected.uid == actual.uid
            && expected.gid == actual.gid && expected.size == actual.size && expected.sha256 == actual.sha256
            && expected.target == actual.target && expected.link == actual.link
            && expected.devMajor == actual.devMajor && expected.devMinor == actual.devMinor
            && expected.rawPath == actual.rawPath
    }
}
