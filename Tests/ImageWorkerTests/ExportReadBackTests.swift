import Foundation
import ImageStore
import TestSupport
import Testing

/// Every fixture image in every format, through the real pipeline (registry → `image-worker
/// export`), read back with the kernel or the archive tools and compared with the fixture's
/// hand-built expectation (expected.json) and with what `umoci raw unpack` makes of the same
/// layers (``UmociOracle``): type, mode, owner, size, content hash, symlink target, hardlink
/// groups, xattrs and device numbers. Zero differences allowed.
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
        let data = scratch.url.appendingPathComponent("data")
        let export = try await ProcessRunner.run(
            Child.imageWorker,
            ["export", registry.reference(repository: "readback/\(image)", tag: "v1"), "--format", format,
             "-o", disk.path, "--data-dir", data.path])
        try #require(export.status == 0, "export failed: \(export.output)")
        // Nothing of the image was unpacked on the host: the scratch holds no tree.
        #expect(try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("tmp").path).isEmpty)

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
            Self.same(expectedTree[path], actual[path], ignoreXattrs)
                ? nil : "\(path): expected \(String(describing: expectedTree[path])), found \(String(describing: actual[path]))"
        }
        #expect(differences.isEmpty, "\(differences.count) differences:\n\(differences.prefix(20).joined(separator: "\n"))")
        let manifestDigest = try #require(expectedImage.manifestDigest ?? expectedImage.platforms?["linux/amd64"]?.manifestDigest)
        var oracle = try await UmociOracle.tree(layout: try await FixtureImages.layout(image), manifestDigest: manifestDigest)
        oracle[""] = nil
        oracle["."] = nil
        let disagreements = Set(oracle.keys).union(actual.keys).sorted().compactMap { path -> String? in
            Self.same(oracle[path], actual[path], ignoreXattrs)
                ? nil : "\(path): umoci \(String(describing: oracle[path])), disk \(String(describing: actual[path]))"
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) differences from umoci:\n\(disagreements.prefix(20).joined(separator: "\n"))")
    }

    static func same(_ expected: TreeNode?, _ actual: TreeNode?, _ ignoringXattrs: Bool) -> Bool {
        guard let expected, let actual else { return expected == nil && actual == nil }
        return expected.matches(actual, ignoringXattrs: ignoringXattrs)
    }
}
