import Foundation
import TestSupport
import Testing

@testable import ImageStore

/// How our inflate of one blob must compare with `gzip -dc` / `zstd -dc`.
enum InflateOutcome: Sendable {
    /// Both succeed with the same bytes.
    case same
    /// We refuse; the tool exits with `toolStatus` (0: it accepts what we refuse, a documented
    /// difference); up to the damage both produced the same bytes.
    case refused(toolStatus: Int32, mentions: String)
}

struct InflateCase: Sendable, CustomTestStringConvertible {
    let name: String
    let outcome: InflateOutcome
    var testDescription: String { name }
}

@Suite("LayerStream inflate against gzip -dc and zstd -dc")
struct InflateTests {
    static let table: [InflateCase] = [
        .init(name: "gzip-single", outcome: .same),
        .init(name: "gzip-multi-member", outcome: .same),
        .init(name: "gzip-many-tiny-members", outcome: .same),
        .init(name: "gzip-level-1", outcome: .same),
        .init(name: "gzip-stored", outcome: .same),
        .init(name: "empty-gzip", outcome: .same),
        .init(name: "zstd-single", outcome: .same),
        .init(name: "zstd-multi-frame", outcome: .same),
        .init(name: "zstd-skippable-frame", outcome: .same),
        .init(name: "empty-zstd", outcome: .same),
        .init(name: "gzip-truncated", outcome: .refused(toolStatus: 1, mentions: "truncated")),
        .init(name: "gzip-truncated-trailer", outcome: .refused(toolStatus: 1, mentions: "truncated")),
        .init(name: "gzip-bad-crc", outcome: .refused(toolStatus: 1, mentions: "CRC-32")),
        .init(name: "gzip-corrupt-deflate", outcome: .refused(toolStatus: 1, mentions: "corrupt")),
        // gzip warns (status 2) and ignores trailing garbage, and silently ignores trailing
        // zeros; Go's gzip reader, and so containerd, refuses both, and so do we.
        .init(name: "gzip-trailing-garbage", outcome: .refused(toolStatus: 2, mentions: "trailing garbage")),
        .init(name: "gzip-trailing-zeros", outcome: .refused(toolStatus: 0, mentions: "trailing garbage")),
        .init(name: "zstd-truncated", outcome: .refused(toolStatus: 1, mentions: "truncated")),
        .init(name: "zstd-trailing-garbage", outcome: .refused(toolStatus: 1, mentions: "Unknown frame descriptor")),
    ]

    @Test("our inflate gives what the reference tool gives, or refuses where it must", arguments: table)
    func inflate(_ testCase: InflateCase) async throws {
        let directory = try TemporaryDirectory(prefix: "inflate")
        defer { directory.remove() }
        let blob = try await TarStreamBlob.make(testCase.name, in: directory.url)
        let tool = testCase.name.hasPrefix("gzip") || testCase.name == "empty-gzip" ? "gzip" : "zstd"
        let reference = try await ProcessRunner.run(tool, ["-dc", blob.file.path])
        var ours = Data()
        var failure: LayerReadFailure?
        do throws(LayerReadFailure) {
            let stream = try LayerStream(file: blob.file, mediaType: blob.mediaType, expected: LayerDigests())
            while true {
                let chunk = try stream.next()
                if chunk.isEmpty { break }
                ours.append(contentsOf: chunk)
            }
            #expect(stream.compression?.rawValue == tool)
            #expect(stream.uncompressedBytes == Int64(ours.count))
        } catch {
            failure = error
        }
        switch testCase.outcome {
        case .same:
            #expect(failure == nil, "\(String(describing: failure))")
            #expect(reference.status == 0)
            #expect(ours == reference.stdout, "ours \(ours.count) bytes, \(tool) -dc \(reference.stdout.count)")
        case .refused(let toolStatus, let mentions):
            let failure = try #require(failure, "accepted \(ours.count) bytes")
            #expect(failure.reason == .corrupt)
            #expect(failure.message.contains(mentions), "\(failure.message)")
            #expect(reference.status == toolStatus, "\(tool) -dc exited \(reference.status)")
            // Both stop at the damage, each after its own last full buffer: one output is a
            // prefix of the other.
            #expect(
                reference.stdout.starts(with: ours) || ours.starts(with: reference.stdout),
                "our \(ours.count) bytes and \(tool)'s \(reference.stdout.count) disagree before the damage")
        }
    }

    @Test("the diff_id computed on the way is sha256 of what gzip -dc gives", arguments: ["gzip-multi-member", "zstd-multi-frame", "plain"])
    func diffID(_ name: String) async throws {
        let directory = try TemporaryDirectory(prefix: "inflate")
        defer { directory.remove() }
        let blob = try await TarStreamBlob.make(name, in: directory.url)
        let stream = try LayerStream(file: blob.file, mediaType: blob.mediaType, expected: LayerDigests(blob: SHA256.digest(of: Data())))
        #expect(throws: LayerReadFailure.self) { try stream.drain() }
        #expect(stream.digests.diffID == blob.tarDigest)
        #expect(stream.digests.blob?.description == "sha256:" + (try await ProcessRunner.sha256(of: blob.file)))
    }
}
