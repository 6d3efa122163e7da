import Foundation
import Synchronization
import TestSupport
import Testing

@testable import ImageStore

/// Every fixture image × erofs (plain, lz4, lz4hc) built from its layers through the model
/// (``DiskExporter/export(layers:format:to:options:limits:arrivals:progress:)``), read back by
/// the kernel (loop mount) and by `fsck.erofs --extract`, and compared with expected.json and
/// with `umoci raw unpack` of the same layers (``UmociOracle``). Zero differences allowed.
@Suite("erofs of every fixture image reads back equal to umoci and expected.json", .serialized)
struct EROFSFixtureTests {
    static let images = [
        "multilayer", "multilayer-zstd", "multilayer-uncompressed", "multilayer-docker", "multiarch", "multiarch-docker",
        "systemd",
    ]
    static let compressions: [(name: String, options: ExportOptions)] = [
        ("plain", ExportOptions(erofsCompressed: false, verity: false)),
        ("lz4", ExportOptions(erofsCompressor: .lz4, verity: false)),
        ("lz4hc", ExportOptions(verity: false)),
    ]
    static let cases = images.flatMap { image in compressions.indices.map { (image, $0) } }

    @Test("mount and fsck.erofs --extract both show exactly the image's tree", arguments: cases)
    func readsBack(image: String, compression: Int) async throws {
        let (name, options) = Self.compressions[compression]
        let scratch = try TemporaryDirectory(prefix: "erofs-fixture")
        defer { scratch.remove() }
        let layout = try await FixtureImages.layout(image)
        let expectedImage = try await FixtureImages.expected(image)
        let expected = try #require(expectedImage.tree ?? expectedImage.platforms?["linux/amd64"]?.tree)
        let manifestDigest = try #require(expectedImage.manifestDigest ?? expectedImage.platforms?["linux/amd64"]?.manifestDigest)
        func blob(_ digest: String) -> URL { layout.appendingPathComponent("blobs/sha256/" + digest.dropFirst("sha256:".count)) }
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: blob(manifestDigest)))
        let layers = manifest.layers.map { LayerSource(descriptor: $0, file: blob($0.digest.description)) }
        let total = manifest.layers.reduce(Int64(0)) { $0 + $1.size }

        let disk = scratch.url.appendingPathComponent("disk.erofs")
        let seen = Mutex<[Int64]>([])
        _ = try await DiskExporter().export(layers: layers, format: .erofs, to: disk, options: options) { bytes in
            seen.withLock { $0.append(bytes) }
        }
        // Progress rises through every layer and ends at the layer files' total size.
        let figures = seen.withLock { $0 }
        #expect(zip(figures, figures.dropFirst()).allSatisfy { $0 <= $1 } && figures.last == total, "\(name): \(figures)")

        let oracle = try await UmociOracle.tree(layout: layout, manifestDigest: manifestDigest)
        let extracted = scratch.url.appendingPathComponent("extracted")
        let fsck = try await ProcessRunner.run("fsck.erofs", ["--extract=" + extracted.path, disk.path])
        try #require(fsck.status == 0, "\(name): fsck.erofs: \(fsck.output)")
        let extract = try await FixtureImages.scanTree(extracted)
        let mountPoint = scratch.url.appendingPathComponent("mnt")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        try await ProcessRunner.check("mount", ["-o", "loop,ro", "-t", "erofs", disk.path, mountPoint.path])
        let mounted: [String: TreeNode]
        do {
            mounted = try await FixtureImages.scanTree(mountPoint)
            try await ProcessRunner.check("umount", [mountPoint.path])
        } catch {
            _ = try? await ProcessRunner.run("umount", [mountPoint.path])
            throw error
        }
        #expect(expected.count > 20)
        for (what, reference) in [("expected.json", expected), ("umoci", oracle)] {
            let mountDifferences = TreeNode.differences(expected: reference, actual: mounted)
            #expect(mountDifferences.isEmpty, "\(name) mount vs \(what):\n\(mountDifferences.prefix(20).joined(separator: "\n"))")
            let extractDifferences = Self.extractDifferences(expected: reference, extracted: extract)
            #expect(
                extractDifferences.isEmpty, "\(name) extract vs \(what):\n\(extractDifferences.prefix(20).joined(separator: "\n"))")
        }
    }

    /// Differences of a `fsck.erofs --extract` tree from `expected`, minus what erofs-utils 1.5
    /// does not restore when extracting: extended attributes, hardlinks (each name is a copy)
    /// and setuid/setgid bits (it chowns after chmod, which clears them). The mount checks all three.
    static func extractDifferences(expected: [String: TreeNode], extracted: [String: TreeNode]) -> [String] {
        Set(expected.keys).union(extracted.keys).subtracting(["", "."]).sorted().compactMap { path in
            guard let want = expected[path], let got = extracted[path] else { return "\(path): only on one side" }
            let same =
                want.type == got.type && want.mode & 0o1777 == got.mode & 0o1777 && want.uid == got.uid
                && want.gid == got.gid && want.size == got.size && want.sha256 == got.sha256 && want.target == got.target
                && want.devMajor == got.devMajor && want.devMinor == got.devMinor && want.rawPath == got.rawPath
            return same ? nil : "\(path): expected \(want), found \(got)"
        }
    }
}
