import Foundation
import Synchronization
import TestSupport
import Testing

@testable import ImageStore

/// The applied-bytes figures a worker records while converting.
@Suite("LayerApplier progress")
struct LayerApplierProgressTests {
    @Test("progress rises monotonically through every layer and ends at the layer files' total size")
    func progressReachesTotal() async throws {
        let layout = try await FixtureImages.layout("multilayer")
        let manifestDigest = try #require(try await FixtureImages.expected("multilayer").manifestDigest)
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: blob(layout, manifestDigest)))
        let layers = manifest.layers.map { LayerSource(descriptor: $0, file: blob(layout, $0.digest.description)) }
        let total = manifest.layers.reduce(Int64(0)) { $0 + $1.size }
        let scratch = try TemporaryDirectory(prefix: "apply-progress")
        defer { scratch.remove() }
        let rootfs = scratch.url.appendingPathComponent("rootfs")
        try FileManager.default.createDirectory(at: rootfs, withIntermediateDirectories: true)

        let seen = Mutex<[Int64]>([])
        _ = try await LayerApplier().apply(layers: layers, to: rootfs) { bytes in seen.withLock { $0.append(bytes) } }

        let figures = seen.withLock { $0 }
        #expect(figures.count > layers.count)
        #expect(zip(figures, figures.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(figures.last == total)
        #expect(figures.contains { $0 > 0 && $0 < total })
    }

    private func blob(_ layout: URL, _ digest: String) -> URL {
        layout.appendingPathComponent("blobs/sha256/" + digest.dropFirst("sha256:".count))
    }
}
