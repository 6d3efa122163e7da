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
        let first = sources[0].fileSize
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
}
