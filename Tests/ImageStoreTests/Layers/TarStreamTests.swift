import Foundation
import TestSupport
import Testing

@testable import ImageStore

/// What reading one blob of make-tarstreams.py must give.
enum TarStreamOutcome: Sendable {
    /// Read to its end; these entry paths, in order (an empty list: an empty layer).
    case entries([String])
    /// Refused with this `LayerError` case, whose description contains each of `mentions`.
    case refused(String, mentions: [String])
}

struct TarStreamCase: Sendable, CustomTestStringConvertible {
    let name: String
    let outcome: TarStreamOutcome
    var testDescription: String { name }
}

@Suite("Odd and hostile tar streams through ArchiveReader")
struct TarStreamTests {
    static let big = ["a/text", "b/noise", "c/small"]

    static let table: [TarStreamCase] = [
        // item 23: every libarchive warning on a header refuses the layer, naming the entry
        .init(name: "pax-bad-length", outcome: .refused("malformedHeader", mentions: ["\"f\"", "malformed pax"])),
        .init(name: "pax-no-length", outcome: .refused("malformedHeader", mentions: ["\"f\"", "malformed pax"])),
        .init(name: "pax-nul-in-xattr-name", outcome: .refused("malformedHeader", mentions: ["\"f\"", "Invalid pax"])),
        .init(name: "pax-empty-value-no-newline", outcome: .refused("malformedHeader", mentions: ["\"f\"", "malformed pax"])),
        .init(name: "pax-two-headers", outcome: .refused("malformedHeader", mentions: ["\"two\"", "malformed pax"])),
        .init(name: "negative-size", outcome: .refused("malformedHeader", mentions: ["\"neg\"", "negative size"])),
        .init(name: "negative-size-pax", outcome: .refused("malformedHeader", mentions: ["\"f\"", "negative"])),
        // a name that is not UTF-8 (or UTF-8 in the C locale) is a warning too, and no defect
        .init(name: "pax-utf8-name", outcome: .entries(["\u{e9}t\u{e9}"])),
        .init(name: "pax-latin1-name", outcome: .entries(["caf\\xe9"])),
        // item 24: empty layers are empty, not corrupt
        .init(name: "empty-bytes", outcome: .entries([])),
        .init(name: "empty-bytes-gzip-type", outcome: .entries([])),
        .init(name: "empty-gzip", outcome: .entries([])),
        .init(name: "empty-zstd", outcome: .entries([])),
        .init(name: "end-marker-only", outcome: .entries([])),
        .init(name: "empty-tar-gzip", outcome: .entries([])),
        // item 25: not a tar, said so, with what it looks like
        .init(name: "not-tar-zip", outcome: .refused("notATar", mentions: ["not a tar archive", "ZIP", "50 4b 03 04"])),
        .init(name: "not-tar-json", outcome: .refused("notATar", mentions: ["not a tar archive", "JSON", "BLOB_UNKNOWN"])),
        .init(name: "not-tar-elf", outcome: .refused("notATar", mentions: ["not a tar archive", "ELF", "7f 45 4c 46"])),
        .init(name: "not-tar-short", outcome: .refused("notATar", mentions: ["too short", "27 bytes"])),
        .init(name: "not-tar-gzip-text", outcome: .refused("notATar", mentions: ["after gzip decompression", "HTML", "502 Bad"])),
        .init(name: "double-gzip", outcome: .refused("notATar", mentions: ["after gzip decompression", "tar", "inside gzip"])),
        .init(name: "garbage", outcome: .refused("notATar", mentions: ["not a tar archive", "0b 30 55 7a"])),
        // well-formed tars in every compression and shape
        .init(name: "plain", outcome: .entries(["f"])),
        .init(name: "trailing-after-end", outcome: .entries(["f"])),
        .init(name: "gzip-single", outcome: .entries(big)),
        .init(name: "gzip-multi-member", outcome: .entries(big)),
        .init(name: "gzip-many-tiny-members", outcome: .entries(["f"])),
        .init(name: "gzip-level-1", outcome: .entries(big)),
        .init(name: "gzip-stored", outcome: .entries(big)),
        .init(name: "gzip-as-tar-type", outcome: .entries(["f"])),
        .init(name: "tar-as-gzip-type", outcome: .entries(["f"])),
        .init(name: "zstd-single", outcome: .entries(big)),
        .init(name: "zstd-multi-frame", outcome: .entries(big)),
        .init(name: "zstd-skippable-frame", outcome: .entries(["f"])),
        .init(name: "zstd-as-gzip-type", outcome: .entries(["f"])),
        // broken compression or tar: corrupt, with the reason
        .init(name: "gzip-truncated", outcome: .refused("corruptArchive", mentions: ["truncated"])),
        .init(name: "gzip-truncated-trailer", outcome: .refused("corruptArchive", mentions: ["truncated"])),
        .init(name: "gzip-trailing-garbage", outcome: .refused("corruptArchive", mentions: ["trailing garbage"])),
        .init(name: "gzip-trailing-zeros", outcome: .refused("corruptArchive", mentions: ["trailing garbage"])),
        .init(name: "gzip-bad-crc", outcome: .refused("corruptArchive", mentions: ["CRC-32"])),
        .init(name: "gzip-corrupt-deflate", outcome: .refused("corruptArchive", mentions: ["gzip member 1 is corrupt"])),
        .init(name: "zstd-truncated", outcome: .refused("corruptArchive", mentions: ["truncated"])),
        .init(name: "zstd-trailing-garbage", outcome: .refused("corruptArchive", mentions: ["zstd stream is corrupt"])),
        .init(name: "tar-truncated-in-gzip", outcome: .refused("corruptArchive", mentions: ["a/text", "Truncated"])),
    ]

    @Test(
        "each odd stream is read to its end or refused with a clear error, inflated on its own thread or not",
        arguments: table, [true, false])
    func stream(_ testCase: TarStreamCase, threaded: Bool) async throws {
        let directory = try TemporaryDirectory(prefix: "tarstream")
        defer { directory.remove() }
        let blob = try await TarStreamBlob.make(testCase.name, in: directory.url)
        // The expected diff_id is what gzip -dc / zstd -dc give: reading it to the end checks it.
        let read = TarStreamRead.read(blob, expected: LayerDigests(diffID: blob.tarDigest), threaded: threaded)
        switch testCase.outcome {
        case .entries(let paths):
            #expect(read.error == nil, "\(String(describing: read.error))")
            #expect(read.entries.map { $0.path } == paths)
            #expect(blob.tarDigest != nil)
        case .refused(let kind, let mentions):
            let error = try #require(read.error, "expected \(kind); read \(read.entries.map { $0.path })")
            #expect(HostileCase.caseName(error) == kind, "\(error)")
            #expect(error.kind == .permanent)
            #expect(error.description.contains(TarStreamRead.layer.description), "\(error)")
            for text in mentions { #expect(error.description.contains(text), "\(text): \(error)") }
            #expect(!error.description.contains("error -"), "a bare status code: \(error)")
        }
    }

    @Test("the contents of multi-member gzip and multi-frame zstd layers are the whole files")
    func contents() async throws {
        let directory = try TemporaryDirectory(prefix: "tarstream")
        defer { directory.remove() }
        let single = TarStreamRead.read(try await TarStreamBlob.make("gzip-single", in: directory.url), expected: .init())
        for name in ["gzip-multi-member", "gzip-stored", "zstd-multi-frame"] {
            let blob = try await TarStreamBlob.make(name, in: directory.url)
            for threaded in [true, false] {
                let read = TarStreamRead.read(blob, expected: .init(), threaded: threaded)
                #expect(read.entries.map { $0.content } == single.entries.map { $0.content }, "\(name) \(threaded)")
            }
        }
        #expect(single.entries.map { $0.content.count } == [3 << 20, 1 << 20, 6])
    }

    @Test("a diff_id that is not the layer's is refused at the end, naming both digests", arguments: ["plain", "gzip-multi-member", "zstd-single", "empty-gzip"])
    func wrongDiffID(_ name: String) async throws {
        let directory = try TemporaryDirectory(prefix: "tarstream")
        defer { directory.remove() }
        let blob = try await TarStreamBlob.make(name, in: directory.url)
        let actual = try #require(blob.tarDigest)
        let wrong = SHA256.digest(of: Data("not this layer".utf8))
        let read = TarStreamRead.read(blob, expected: LayerDigests(diffID: wrong))
        let error = try #require(read.error)
        #expect(error == .digestMismatch(layer: TarStreamRead.layer, what: "diff_id", expected: wrong, actual: actual))
        #expect(error.description.contains(wrong.description) && error.description.contains(actual.description))
        #expect(error.kind == .permanent)
    }

    @Test("a blob digest that is not the blob's is refused at the end, naming both digests")
    func wrongBlobDigest() async throws {
        let directory = try TemporaryDirectory(prefix: "tarstream")
        defer { directory.remove() }
        let blob = try await TarStreamBlob.make("gzip-single", in: directory.url)
        let actual = Digest(sha256Hex: try await ProcessRunner.sha256(of: blob.file))
        let wrong = SHA256.digest(of: Data("another blob".utf8))
        #expect(TarStreamRead.read(blob, expected: LayerDigests(blob: actual, diffID: blob.tarDigest)).error == nil)
        let error = try #require(TarStreamRead.read(blob, expected: LayerDigests(blob: wrong)).error)
        #expect(error == .digestMismatch(layer: TarStreamRead.layer, what: "blob digest", expected: wrong, actual: actual))
    }
}


@Suite("InflatePipe")
struct InflatePipeTests {
    @Test("the pipe hands out the stream's bytes in order, then the end, and reports compressed bytes consumed")
    func order() async throws {
        let directory = try TemporaryDirectory(prefix: "pipe")
        defer { directory.remove() }
        let blob = try await TarStreamBlob.make("gzip-multi-member", in: directory.url)
        let direct = try LayerStream(file: blob.file, mediaType: blob.mediaType, expected: .init())
        var expected = Data()
        while true {
            let chunk = try direct.next()
            if chunk.isEmpty { break }
            expected.append(contentsOf: chunk)
        }
        let pipe = InflatePipe(
            stream: try LayerStream(file: blob.file, mediaType: blob.mediaType, expected: .init(), hashesTar: false), diffID: nil)
        var piped = Data()
        var progress: [Int64] = []
        while true {
            let chunk = try pipe.next()
            if chunk.isEmpty { break }
            piped.append(contentsOf: chunk)
            progress.append(pipe.compressedBytesRead)
        }
        #expect(piped == expected)
        #expect(progress == progress.sorted())
        #expect(pipe.compressedBytesRead == direct.compressedBytesRead)
        #expect(pipe.compression == .gzip)
        #expect(try pipe.next().isEmpty, "the end is sticky")
    }

    @Test("a failure comes after the bytes before it, and again on every later call")
    func failure() async throws {
        let directory = try TemporaryDirectory(prefix: "pipe")
        defer { directory.remove() }
        let blob = try await TarStreamBlob.make("gzip-truncated", in: directory.url)
        let pipe = InflatePipe(
            stream: try LayerStream(file: blob.file, mediaType: blob.mediaType, expected: .init(), hashesTar: false), diffID: nil)
        var count = 0
        var failure: LayerReadFailure?
        do throws(LayerReadFailure) {
            while true {
                let chunk = try pipe.next()
                if chunk.isEmpty { break }
                count += chunk.count
            }
        } catch {
            failure = error
        }
        #expect(failure?.reason == .corrupt && failure?.message.contains("truncated") == true)
        #expect(count > 1 << 20, "the bytes before the damage arrive first")
        #expect(throws: LayerReadFailure.self) { try pipe.next() }
    }

    @Test("a pipe dropped after its first chunk lets its thread go and frees nothing in use")
    func dropped() async throws {
        let directory = try TemporaryDirectory(prefix: "pipe")
        defer { directory.remove() }
        let blob = try await TarStreamBlob.make("gzip-stored", in: directory.url)
        for _ in 0..<20 {
            let reader = try ArchiveReader(file: blob.file, mediaType: blob.mediaType, threaded: true)
            #expect(try reader.next()?.path == Array("a/text".utf8))
        }
    }
}
