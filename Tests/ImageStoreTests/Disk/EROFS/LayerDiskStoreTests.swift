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

    @Test("a layer hardlinking a lower file gets a disk over its lower layers, keyed by the ChainID; a second ensure converts nothing and touches the disks")
    func crossLayerLink() async throws {
        let scratch = try LayerScratch()
        let directory = try TemporaryDirectory(prefix: "layer-store")
        defer { directory.remove() }
        let store = LayerDiskStore(directory: directory.url)
        let image = try Self.layers(scratch, "copyup-link")
        let diffIDs = image.compactMap(\.diffID)
        let chainIDs = ChainID.of(diffIDs)
        let first = try await store.ensure(image, options: ExportOptions())
        #expect(first.map(\.converted) == [true, true, true])
        #expect(first[0].path == store.path(diffID: diffIDs[0], verity: true).path)
        #expect(first[1].path == store.path(diffID: diffIDs[1], verity: true).path, "a self-contained layer keeps its diff_id disk")
        #expect(first[2].path == store.path(chainID: chainIDs[2], verity: true).path)
        #expect(first[2].path.hasSuffix("/\(chainIDs[2].encoded).chain.verity.erofs"))
        let verity = try #require(first[2].verity)
        #expect(verity.salt == Verity.hex(Verity.salt(layerDiffID: chainIDs[2])))
        try ShellCommand.run(
            "veritysetup", ["verify", first[2].path, first[2].path, verity.rootHash, "--hash-offset=\(verity.hashOffset)"])
        let fsck = try ShellCommand.attempt("fsck.erofs", [first[2].path])
        #expect(fsck.status == 0, "\(fsck.output)")
        // The copied file is in the disk (dump.erofs reads it back): the lower file's size,
        // owner and mode, one inode for opt/t, data/l1 and data/l4.
        let dump = try ShellCommand.run("dump.erofs", ["--path=/opt/t", first[2].path])
        let fields = dump.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for field in ["Size: 7", "Links: 3", "Uid: 7 Gid: 8", "Access: 0640"] {
            #expect(fields.contains(field), "\(field): \(dump)")
        }
        // Deterministic like every layer disk: built again, the same bytes.
        let again = try await DiskExporter().exportLayerDisk(
            image[2], over: Array(image[..<2]), chainID: chainIDs[2], to: directory.url.appendingPathComponent("again/x.erofs"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: again.path)) == Data(contentsOf: URL(fileURLWithPath: first[2].path)))
        try FileManager.default.removeItem(at: directory.url.appendingPathComponent("again"))
        // Old times on every disk; a second ensure converts nothing and sets them to now.
        for disk in first {
            var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
            try #require(utimensat(AT_FDCWD, disk.path, &times, 0) == 0)
        }
        let started = time(nil)
        let second = try await store.ensure(image, options: ExportOptions())
        #expect(second.map(\.converted) == [false, false, false])
        #expect(second.map(\.path) == first.map(\.path) && second.map(\.verity) == first.map(\.verity))
        for disk in second {
            var info = stat()
            try #require(stat(disk.path, &info) == 0)
            #expect(info.st_mtim.tv_sec >= started - 1, "\(disk.path) was not touched")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
        #expect(names.count == 3 && !names.contains { $0.hasPrefix(".") }, "\(names)")
    }

    @Test("the ChainID is the image-spec's: sha256 of \"<chain below> <diff_id>\", as sha256sum computes it")
    func chainIDs() throws {
        let diffIDs = ["11", "22", "33"].map { Digest(sha256Hex: String(repeating: $0, count: 32)) }
        let chain = ChainID.of(diffIDs)
        #expect(chain.count == 3 && chain[0] == diffIDs[0])
        let scratch = try TemporaryDirectory(prefix: "chain-id")
        defer { scratch.remove() }
        var below = diffIDs[0].description
        for index in 1..<3 {
            let text = scratch.url.appendingPathComponent("text-\(index)")
            try Data("\(below) \(diffIDs[index].description)".utf8).write(to: text)
            let hex = try ShellCommand.run("sha256sum", [text.path]).prefix(64)
            #expect(chain[index].description == "sha256:\(hex)")
            below = "sha256:\(hex)"
        }
    }

    @Test("a link to a lower file the same layer whited out before is refused over the lower layers too, leaving no file")
    func crossLayerLinkToWhiteout() async throws {
        let scratch = try LayerScratch()
        let directory = try TemporaryDirectory(prefix: "layer-store")
        defer { directory.remove() }
        let store = LayerDiskStore(directory: directory.url)
        let image = try Self.layers(scratch, "hardlink-to-whiteout")
        await #expect {
            _ = try await store.ensure(image, options: ExportOptions())
        } throws: { error in
            guard case .invalidHardlink(_, let path, _, let reason) = error as? LayerError else { return false }
            return path == "x" && reason == "the target does not exist"
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(names == [store.path(diffID: try #require(image[0].diffID), verity: true).lastPathComponent], "\(names)")
    }
}
