import Foundation
import Testing

@testable import ImageStore

/// LZ4 and LZ4HC files through the erofs writer: compressible, incompressible, large (several
/// batches), with holes; each read back by fsck.erofs and the kernel.
@Suite("EROFSWriter compression")
struct EROFSCompressionTests {
    let scratch: URL

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("erofs-lz4-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    /// Text-like bytes that LZ4 shrinks several times.
    static func text(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = SeededGenerator(seed: seed)
        let words = ["erofs ", "block ", "cluster ", "image-worker ", "layer ", "\n", "0123 ", "lz4hc "].map { Array($0.utf8) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 16)
        while bytes.count < count { bytes += words[Int.random(in: 0..<words.count, using: &random)] }
        return Array(bytes.prefix(count))
    }

    static func noise(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    @Test("files of every shape read back", arguments: [EROFSWriterOptions.Compression.lz4, .lz4hc(level: 12), .lz4hc(level: 1)])
    func shapes(compression: EROFSWriterOptions.Compression) throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        var options = EROFSReadBack.testOptions
        options.compression = compression
        let path = scratch.appendingPathComponent("shapes.erofs")
        let image = try EXT4TestImage(path: path, erofs: options)
        try image.file("small", bytes: EROFSCompressionTests.text(3000, seed: 1))
        try image.file("two-blocks", bytes: EROFSCompressionTests.text(8193, seed: 2))
        try image.file("text", bytes: EROFSCompressionTests.text(300_000, seed: 3), uid: 70000, time: Timestamp(seconds: -5, nanoseconds: 7))
        try image.file("noise", bytes: EROFSCompressionTests.noise(300_001, seed: 4))
        let mixed = EROFSCompressionTests.text(200_000, seed: 5) + EROFSCompressionTests.noise(100_000, seed: 6) + EROFSCompressionTests.text(50_000, seed: 7)
        try image.file("mixed", bytes: mixed, xattrs: [Xattr(name: "user.note", value: Array("kept".utf8))])
        // 20 MiB in 1 MiB pieces: three batches, compressed as it streams, then a hole.
        let big = EROFSCompressionTests.text(1 << 20, seed: 8)
        try image.file(Array("big".utf8), chunks: (0..<20).map { (Int64($0) << 20, big) } + [(Int64(24) << 20, big)], size: Int64(30) << 20)
        // A hole early on: stored uncompressed, holes kept.
        try image.file(Array("sparse".utf8), chunks: [(0, big), (Int64(9) << 20, big)], size: Int64(64) << 20)
        try image.finish()
        #expect(try EROFSReadBack.differences(image, scratch: scratch) == [])
        let allocated = try FileManager.default.attributesOfItem(atPath: path.path)[.size] as? Int ?? 0
        #expect(allocated < 24 << 20, "image of \(allocated) bytes: compression or holes lost")
    }

    @Test("incompressible data is stored plain, compressible data shrinks")
    func ratio() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        var options = EROFSReadBack.testOptions
        options.compression = .lz4hc(level: 9)
        let noisePath = scratch.appendingPathComponent("noise.erofs")
        let noise = try EXT4TestImage(path: noisePath, erofs: options)
        try noise.file("noise", bytes: EROFSCompressionTests.noise(4 << 20, seed: 9))
        try noise.finish()
        let noiseSize = try FileManager.default.attributesOfItem(atPath: noisePath.path)[.size] as? Int ?? 0
        #expect(noiseSize < (4 << 20) + 64 * 1024)
        #expect(try EROFSReadBack.differences(noise, scratch: scratch) == [])
        let textPath = scratch.appendingPathComponent("text.erofs")
        let text = try EXT4TestImage(path: textPath, erofs: options)
        try text.file("text", bytes: EROFSCompressionTests.text(4 << 20, seed: 10))
        try text.finish()
        let textSize = try FileManager.default.attributesOfItem(atPath: textPath.path)[.size] as? Int ?? 0
        #expect(textSize < 2 << 20)
        #expect(try EROFSReadBack.differences(text, scratch: scratch) == [])
    }
}
