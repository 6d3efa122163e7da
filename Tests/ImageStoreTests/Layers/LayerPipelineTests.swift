import Foundation
import TestSupport
import Testing

@testable import ImageStore

@Suite("Apply while downloading: DiskExporter with LayerArrivals")
struct LayerPipelineTests {
    /// Two gzip layers of make-tarstreams.py as sources (no diff_id check).
    static func layers(in directory: URL) async throws -> [LayerSource] {
        var sources: [LayerSource] = []
        for (index, name) in ["gzip-single", "gzip-many-tiny-members"].enumerated() {
            let blob = try await TarStreamBlob.make(name, in: directory)
            sources.append(
                LayerSource(
                    digest: Digest(sha256Hex: String(repeating: "\(index + 1)", count: 64)), mediaType: blob.mediaType,
                    file: blob.file))
        }
        return sources
    }

    @Test("layer 1 is applied while layer 2 is not yet stored; the disk is written once it arrives")
    func overlap() async throws {
        let directory = try TemporaryDirectory(prefix: "pipeline")
        defer { directory.remove() }
        let sources = try await Self.layers(in: directory.url)
        let output = directory.url.appendingPathComponent("disk.ext4")
        let arrivals = LayerArrivals(count: 2)
        arrivals.arrived([0], at: sources[0].file)
        let (applied, continuation) = AsyncStream.makeStream(of: Int64.self)
        let export = Task {
            // Finished either way, so the wait below ends also when the export fails.
            defer { continuation.finish() }
            return try await DiskExporter().export(
                layers: sources, format: .ext4, to: output, arrivals: arrivals, progress: { continuation.yield($0) })
        }
        // Wait for layer 1's whole blob to be reported applied: progress, not a clock.
        let first = try Self.size(sources[0].file)
        for await bytes in applied where bytes >= first { break }
        #expect(!FileManager.default.fileExists(atPath: output.path), "the disk exists before layer 2 arrived")
        arrivals.arrived([1], at: sources[1].file)
        let result = try await export.value
        #expect(result.path == output.path)
        try await ProcessRunner.check("e2fsck", ["-fn", output.path])
    }

    @Test("a download that fails fails the export with its error and leaves no disk")
    func failedDownload() async throws {
        let directory = try TemporaryDirectory(prefix: "pipeline")
        defer { directory.remove() }
        let sources = try await Self.layers(in: directory.url)
        let output = directory.url.appendingPathComponent("disk.ext4")
        let arrivals = LayerArrivals(count: 2)
        arrivals.arrived([0], at: sources[0].file)
        let failure = ContentStoreError.digestMismatch(path: "blob", expected: sources[1].digest, actual: sources[0].digest)
        arrivals.fail(failure)
        await #expect(throws: ContentStoreError.self) {
            try await DiskExporter().export(layers: sources, format: .ext4, to: output, arrivals: arrivals)
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(!left.contains { $0.hasPrefix("disk.ext4") || $0.contains(".tmp-") }, "\(left)")
    }

    @Test("arrivals resolve each index once, to the blob or to the failure, for waiters before and after")
    func arrivals() async throws {
        let arrivals = LayerArrivals(count: 3)
        let early = Task { try await arrivals.wait(2) }
        arrivals.arrived([0, 2], at: URL(fileURLWithPath: "/blob"))
        #expect(try await early.value.path == "/blob")
        #expect(try await arrivals.wait(0).path == "/blob")
        arrivals.fail(CancellationError())
        await #expect(throws: CancellationError.self) { try await arrivals.wait(1) }
        #expect(try await arrivals.wait(2).path == "/blob", "an arrived layer stays arrived")
    }

    static func size(_ file: URL) throws -> Int64 {
        try #require((try FileManager.default.attributesOfItem(atPath: file.path))[.size] as? NSNumber).int64Value
    }

    /// A temp file growing to `blob`'s bytes as the test writes them, with its ``BlobFollow``.
    final class GrowingBlob: @unchecked Sendable {
        let bytes: [UInt8]
        let path: URL
        let follow: BlobFollow
        private let handle: FileHandle
        private(set) var written = 0

        init(copying blob: URL, in directory: URL) throws {
            bytes = Array(try Data(contentsOf: blob))
            path = directory.appendingPathComponent("growing-\(UUID().uuidString.prefix(8))")
            FileManager.default.createFile(atPath: path.path, contents: nil)
            handle = try FileHandle(forWritingTo: path)
            follow = try BlobFollow(path: path.path)
        }

        deinit { try? handle.close() }

        /// Appends the next `count` bytes (or all that is left) and reports them.
        func write(_ count: Int) throws {
            let end = min(bytes.count, written + count)
            try handle.write(contentsOf: bytes[written..<end])
            written = end
            follow.advance(to: Int64(end))
        }
    }

    @Test("a layer is applied while its own blob is still being written; the disk equals the one built from the stored blob, and is published only once the blob is stored")
    func followGrowingBlob() async throws {
        let directory = try TemporaryDirectory(prefix: "pipeline")
        defer { directory.remove() }
        let sources = try await Self.layers(in: directory.url)
        let reference = try await DiskExporter().export(
            layers: sources, format: .ext4, to: directory.url.appendingPathComponent("reference.ext4"),
            options: ExportOptions(identity: DiskIdentity(name: "same"), verity: false))
        let growing = try GrowingBlob(copying: sources[1].file, in: directory.url)
        let output = directory.url.appendingPathComponent("disk.ext4")
        let arrivals = LayerArrivals(count: 2)
        arrivals.arrived([0], at: sources[0].file)
        arrivals.started([1], follow: growing.follow)
        let (applied, continuation) = AsyncStream.makeStream(of: Int64.self)
        let export = Task {
            defer { continuation.finish() }
            return try await DiskExporter().export(
                layers: sources, format: .ext4, to: output, options: ExportOptions(identity: DiskIdentity(name: "same"), verity: false),
                arrivals: arrivals, progress: { continuation.yield($0) })
        }
        let first = try Self.size(sources[0].file)
        let half = growing.bytes.count / 2
        try growing.write(half)
        // Entries of layer 2 are applied from the first half alone: progress, not a clock.
        var iterator = applied.makeAsyncIterator()
        while let bytes = await iterator.next(), bytes <= first {}
        #expect(growing.written == half)
        try growing.write(growing.bytes.count)
        growing.follow.endOfData()
        // Every byte is applied, but the blob is not stored yet: no disk.
        let total = first + Int64(growing.bytes.count)
        while let bytes = await iterator.next(), bytes < total {}
        #expect(!FileManager.default.fileExists(atPath: output.path), "published before the blob was stored")
        arrivals.arrived([1], at: sources[1].file)
        let result = try await export.value
        try await ProcessRunner.check("e2fsck", ["-fn", result.path])
        #expect(try Data(contentsOf: output) == Data(contentsOf: URL(fileURLWithPath: reference.path)))
    }

    @Test("a download that fails while its layer is read fails the export and leaves no disk")
    func followFails() async throws {
        let directory = try TemporaryDirectory(prefix: "pipeline")
        defer { directory.remove() }
        let sources = try await Self.layers(in: directory.url)
        let growing = try GrowingBlob(copying: sources[0].file, in: directory.url)
        let output = directory.url.appendingPathComponent("disk.ext4")
        let arrivals = LayerArrivals(count: 2)
        arrivals.started([0], follow: growing.follow)
        try growing.write(growing.bytes.count / 3)
        let export = Task { try await DiskExporter().export(layers: sources, format: .ext4, to: output, arrivals: arrivals) }
        growing.follow.fail()
        await #expect(throws: LayerError.self) { try await export.value }
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(!left.contains { $0.hasPrefix("disk.ext4") || $0.contains(".tmp-") }, "\(left)")
    }
}
