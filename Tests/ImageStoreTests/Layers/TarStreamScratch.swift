import Foundation
import TestSupport
import Testing

@testable import ImageStore

/// One blob written by Tests/Fixtures/tarstreams/make-tarstreams.py, in a temp directory of its own.
struct TarStreamBlob {
    let file: URL
    let mediaType: String
    /// What `gzip -dc` / `zstd -dc` make of the blob (its bytes when uncompressed); `nil` when they fail.
    let tarDigest: Digest?

    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tarstreams/make-tarstreams.py")

    /// Runs the script for `name` into `directory`.
    static func make(_ name: String, in directory: URL) async throws -> TarStreamBlob {
        let run = try await ProcessRunner.run(ProcessRunner.python, [script.path, "--out", directory.path, name])
        try #require(run.status == 0, "make-tarstreams.py \(name): \(String(decoding: run.stderr, as: UTF8.self))")
        struct Meta: Decodable {
            let mediaType: String
            let tarSha256: String?
        }
        let meta = try JSONDecoder().decode(
            Meta.self, from: Data(contentsOf: directory.appendingPathComponent("\(name).json")))
        return TarStreamBlob(
            file: directory.appendingPathComponent("\(name).blob"), mediaType: meta.mediaType,
            tarDigest: meta.tarSha256.map { Digest(sha256Hex: $0) })
    }
}

/// What reading one blob to its end gave: the entries with their contents, or the error.
struct TarStreamRead {
    var entries: [(path: String, content: [UInt8])] = []
    var error: LayerError?

    /// The layer digest used in messages.
    static let layer = Digest(sha256Hex: String(repeating: "7", count: 64))

    /// Reads `blob` through ``ArchiveReader`` as an applier does: every header, every data block;
    /// `threaded` inflates on the reader's own thread (``InflatePipe``) or on this one.
    static func read(_ blob: TarStreamBlob, expected: LayerDigests, threaded: Bool = true) -> TarStreamRead {
        var result = TarStreamRead()
        var lastPath: String?
        do throws(LayerReadFailure) {
            let reader = try ArchiveReader(
                file: blob.file, mediaType: blob.mediaType, expected: expected, threaded: threaded)
            while let entry = try reader.next() {
                lastPath = entry.displayPath
                var content: [UInt8] = []
                do {
                    try reader.readData { _, bytes in content.append(contentsOf: bytes) }
                } catch let failure as LayerReadFailure {
                    throw failure
                } catch {
                    Issue.record("unexpected \(error)")
                }
                result.entries.append((entry.displayPath, content))
            }
        } catch {
            result.error = error.layerError(layer: layer, path: lastPath)
        }
        return result
    }
}
