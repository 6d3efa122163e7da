import Foundation
import Testing

@testable import ImageStore

@Suite("Content store")
final class ContentStoreTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func tempFiles(_ store: ContentStore) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: store.root.appendingPathComponent("blobs").path)
            .filter { $0.hasPrefix(".tmp-") }
    }

    @Test("creates an OCI layout and stores a verified blob under its digest")
    func writeAndCommit() async throws {
        let store = try ContentStore(root: directory.appendingPathComponent("oci"))
        let marker = try String(contentsOf: store.root.appendingPathComponent("oci-layout"), encoding: .utf8)
        #expect(marker.contains("1.0.0"))
        let payload = Data(repeating: 7, count: 100_000)
        let digest = SHA256.digest(of: payload)
        #expect(!store.has(digest))
        let writer = try store.makeWriter()
        try payload.withUnsafeBytes { try writer.write($0) }
        try await store.commit(writer, as: digest)
        #expect(store.has(digest))
        #expect(try Data(contentsOf: store.path(of: digest)) == payload)
        #expect(store.path(of: digest).path.hasSuffix("blobs/sha256/\(digest.encoded)"))
        #expect(try store.totalBytes() >= 100_000)
        #expect(try tempFiles(store).isEmpty)
    }

    @Test("pieces of any size (gathered before each write) are stored in order; a follower sees only bytes in the file, all of them after flush")
    func gatheredPieces() async throws {
        let store = try ContentStore(root: directory.appendingPathComponent("oci"))
        var generator = SeededGenerator(seed: 12)
        let sizes = [1, 16_384, 16_383, BlobWriter.gatherSize - 1, 2, BlobWriter.gatherSize, 3 * BlobWriter.gatherSize + 5, 0, 7]
        var payload = Data()
        let writer = try store.makeWriter(followed: true)
        let follow = try #require(writer.follow)
        for size in sizes {
            let piece = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
            try piece.withUnsafeBytes { try writer.write($0) }
            payload.append(piece)
            #expect(writer.count == Int64(payload.count))
            // What a follower is told is in the file is in the file, byte for byte.
            let available: Int64
            switch follow.wait(beyond: -1) {
            case .available(let count): available = count
            default: available = 0
            }
            #expect(available <= Int64(payload.count))
            let onDisk = try Data(contentsOf: URL(fileURLWithPath: writer.temporaryPath))
            #expect(Int64(onDisk.count) >= available)
            #expect(onDisk.prefix(Int(available)) == payload.prefix(Int(available)))
        }
        try writer.flush()
        #expect(follow.wait(beyond: Int64(payload.count) - 1) == .available(Int64(payload.count)))
        let digest = SHA256.digest(of: payload)
        try await store.commit(writer, as: digest)
        #expect(try Data(contentsOf: store.path(of: digest)) == payload)

        // Without a flush, commit writes what is gathered before the fsync.
        let small = Data("a small blob that stays in the gathering buffer".utf8)
        let second = try store.makeWriter()
        try small.withUnsafeBytes { try second.write($0) }
        try await store.commit(second, as: SHA256.digest(of: small))
        #expect(try Data(contentsOf: store.path(of: SHA256.digest(of: small))) == small)
        #expect(try tempFiles(store).isEmpty)
    }

    @Test("a mismatching blob never appears and its temp file is removed")
    func mismatch() async throws {
        let store = try ContentStore(root: directory.appendingPathComponent("oci"))
        let expected = SHA256.digest(of: Data("right".utf8))
        let writer = try store.makeWriter()
        try Data("wrong".utf8).withUnsafeBytes { try writer.write($0) }
        await #expect(throws: ContentStoreError.self) { try await store.commit(writer, as: expected) }
        #expect(!store.has(expected))
        #expect(try tempFiles(store).isEmpty)
    }

    @Test("a second writer of a present blob drops its temp file")
    func duplicate() async throws {
        let store = try ContentStore(root: directory.appendingPathComponent("oci"))
        let payload = Data("same".utf8)
        let digest = SHA256.digest(of: payload)
        let first = try store.makeWriter()
        let second = try store.makeWriter()
        try payload.withUnsafeBytes { try first.write($0) }
        try payload.withUnsafeBytes { try second.write($0) }
        try await store.commit(first, as: digest)
        try await store.commit(second, as: digest)
        #expect(store.has(digest))
        #expect(try tempFiles(store).isEmpty)
    }

    @Test("index.json keeps one entry per name and survives concurrent taggers")
    func index() async throws {
        let store = try ContentStore(root: directory.appendingPathComponent("oci"))
        let one = Descriptor(mediaType: MediaType.ociManifest, digest: SHA256.digest(of: Data("1".utf8)), size: 1)
        let two = Descriptor(mediaType: MediaType.ociManifest, digest: SHA256.digest(of: Data("2".utf8)), size: 1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 0..<8 {
                group.addTask { try await store.tag(one, name: "example.com/app:\(number)") }
            }
            try await group.waitForAll()
        }
        try await store.tag(two, name: "example.com/app:3")
        let entries = try store.indexEntries()
        #expect(entries.count == 8)
        let three = entries.filter { $0.annotations?[ContentStore.refNameAnnotation] == "example.com/app:3" }
        #expect(three.map(\.digest) == [two.digest])
    }
}
