import Foundation
import TestSupport
import Testing

@testable import ImageStore

/// Applies the layers of the fixture images (built by make-fixtures.sh) straight from their
/// OCI layouts and compares the whole tree with expected.json.
@Suite("LayerApplier on fixture images")
struct FixtureApplyTests {
    @Test(
        "the applied tree equals expected.json with zero differences",
        arguments: ["multilayer", "multilayer-zstd", "multilayer-uncompressed", "multilayer-docker"])
    func matchesExpected(_ name: String) async throws {
        let layout = try await FixtureImages.layout(name)
        let expected = try #require(try await FixtureImages.expected(name).tree)
        let manifestDigest = try #require(try await FixtureImages.expected(name).manifestDigest)
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: blob(layout, manifestDigest)))
        let layers = manifest.layers.map {
            LayerSource(descriptor: $0, file: blob(layout, $0.digest.description))
        }
        let scratch = try TemporaryDirectory(prefix: "apply")
        defer { scratch.remove() }
        let rootfs = scratch.url.appendingPathComponent("rootfs")
        try FileManager.default.createDirectory(at: rootfs, withIntermediateDirectories: true)

        let statistics = try await LayerApplier().apply(layers: layers, to: rootfs)

        #expect(statistics.layers == layers.count && layers.count > 1)
        #expect(expected.count > 50)
        let actual = try await FixtureImages.scanTree(rootfs)
        #expect(Set(actual.keys).subtracting(expected.keys).sorted() == [], "unexpected paths")
        #expect(Set(expected.keys).subtracting(actual.keys).sorted() == [], "missing paths")
        for (path, node) in expected where actual[path] != node {
            Issue.record("\(path): expected \(node), got \(String(describing: actual[path]))")
        }
    }

    private func blob(_ layout: URL, _ digest: String) -> URL {
        layout.appendingPathComponent("blobs/sha256/" + digest.dropFirst("sha256:".count))
    }
}
