import Foundation
import TestSupport
import Testing

@testable import ImageStore

/// ``LayerDiskStore``: a layer is converted once per diff_id and shared; concurrent builders of
/// one layer leave one good disk; a reused disk's verity figures are read back from the file.
@Suite("LayerDiskStore: one disk per layer diff_id, shared")
struct LayerDiskStoreTests {
    /// The layers of `name` (plain tars) with their real diff_ids, which the builder checks.
    static func layers(_ scratch: LayerScratch, _ name: String) throws -> [LayerSource] {
        try scratch.layers(name).map { layer in
            var layer = layer
            try #require(layer.mediaType == MediaType.ociLayer, "\(name) must be plain tars")
            layer.diffID = SHA256.digest(of: try Data(contentsOf: layer.file))
            return layer
        }
    }

    @Test("a second image sharing the base layer converts only its new layer, and gets the same disk and figures")
    func sharesBaseLayers() async throws {
        let scratch = try LayerScratch()
        let directory = try TemporaryDirectory(prefix: "layer-store")
        defer { directory.remove() }
        let store = LayerDiskStore(directory: directory.url)
        // sem-opaque-first and sem-opaque-last: the same base layer (same bytes, same diff_id),
        // different top layers.
        let imageA = try Self.layers(scratch, "sem-opaque-first")
        let imageB = try Self.layers(scratch, "sem-opaque-last")
        try #require(imageA[0].diffID == imageB[0].diffID && imageA[1].diffID != imageB[1].diffID)
        let first = try await store.ensure(imageA, options: ExportOptions())
        #expect(first.map(\.converted) == [true, true])
        let second = try await store.ensure(imageB, options: ExportOptions())
        #expect(second.map(\.converted) == [false, true], "only the new layer is converted")
        #expect(second[0] == LayerDisk(
            diffID: first[0].diffID, path: first[0].path, allocatedBytes: first[0].allocatedBytes,
            apparentBytes: first[0].apparentBytes, verity: first[0].verity, converted: false))
        #expect(second[0].path == store.path(diffID: try #require(imageA[0].diffID), verity: true).path)
        #expect(second[0].path.hasSuffix(".verity.erofs"))
        // Again: nothing converted, every figure equal.
        let again = try await store.ensure(imageA, options: ExportOptions())
        #expect(again.map(\.converted) == [false, false])
        #expect(again.map(\.verity) == first.map(\.verity))
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
        #expect(names.count == 3, "one file per diff_id, no temp files: \(names)")
        // Without verity: other files, no tree.
        var plain = ExportOptions()
        plain.verity = false
        let unverified = try await store.ensure(imageA, options: plain)
        #expect(unverified.map(\.converted) == [true, true] && unverified.allSatisfy { $0.verity == nil })
        #expect(!unverified[0].path.contains(".verity"))
    }

    @Test("a reused disk that lost its tree is converted again")
    func damagedDiskRebuilt() async throws {
        let scratch = try LayerScratch()
        let directory = try TemporaryDirectory(prefix: "layer-store")
        defer { directory.remove() }
        let store = LayerDiskStore(directory: directory.url)
        let image = try Self.layers(scratch, "sem-whiteout")
        let first = try await store.ensure(image, options: ExportOptions())
        let verity = try #require(first[1].verity)
        try #require(truncate(first[1].path, off_t(verity.hashOffset)) == 0)
        let second = try await store.ensure(image, options: ExportOptions())
        #expect(second.map(\.converted) == [false, true])
        #expect(second[1].verity == verity)
    }

    @Test("two builders converting the same layers at once leave one good disk per layer and no temp file")
    func concurrentBuilders() async throws {
        let scratch = try LayerScratch()
        let directory = try TemporaryDirectory(prefix: "layer-store")
        defer { directory.remove() }
        let store = LayerDiskStore(directory: directory.url)
        let image = try Self.layers(scratch, "sem-replace")
        let results = try await withThrowingTaskGroup(of: [LayerDisk].self) { group in
            for _ in 0..<2 { group.addTask { try await store.ensure(image, options: ExportOptions()) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 2)
        #expect(results[0].map(\.verity) == results[1].map(\.verity))
        #expect(results[0].map(\.path) == results[1].map(\.path))
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
        #expect(names.count == 3 && !names.contains { $0.hasPrefix(".") }, "\(names)")
        for disk in results[0] {
            let verity = try #require(disk.verity)
            try ShellCommand.run(
                "veritysetup", ["verify", disk.path, disk.path, verity.rootHash, "--hash-offset=\(verity.hashOffset)"])
            let fsck = try ShellCommand.attempt("fsck.erofs", [disk.path])
            #expect(fsck.status == 0, "\(fsck.output)")
        }
    }
}
