import Foundation
import Testing

@testable import ImageStore

extension CPUBound {
    /// The random trees of the ext4 property test through the erofs writer, each checked by
    /// `fsck.erofs --extract` and the kernel, and written twice to the same bytes. Seeds are fixed
    /// (the failing seed is in the message); each test case writes and checks 10 trees: 60 plain
    /// and 2 × 30 compressed trees in all (200 + 2 × 100 before), plus the 70,000-entry directory:
    /// about 2 minutes in a debug build on 2 busy cores (measured 2026-12-02: 131 s wall).
    @Suite("EROFSWriter random trees")
    struct EROFSPropertyTests {
        let scratch: URL

        init() throws {
            scratch = FileManager.default.temporaryDirectory.appendingPathComponent("erofs-random-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        }

        static func check(seed: UInt64, options: EROFSWriterOptions, scratch: URL) throws {
            var written: [Data] = []
            var last: EXT4TestImage?
            for attempt in 0..<2 {
                let path = scratch.appendingPathComponent("tree-\(seed)-\(attempt).erofs")
                let image = try EXT4TestImage(path: path, erofs: options)
                var tree = EXT4RandomTree(seed: seed, image: image)
                try tree.build(entries: 20 + Int(seed % 7) * 15)
                try image.finish()
                written.append(try Data(contentsOf: path))
                if attempt == 0 { try FileManager.default.removeItem(at: path) }
                last = image
            }
            #expect(written[0] == written[1], "seed \(seed): not byte-identical")
            guard let image = last else { return }
            let problems = try EROFSReadBack.differences(image, scratch: scratch)
            #expect(problems == [], "seed \(seed)")
            try FileManager.default.removeItem(at: image.path)
        }

        @Test("random trees extract and mount equal, byte-identical twice", arguments: 0..<6)
        func randomTrees(batch: Int) throws {
            defer { try? FileManager.default.removeItem(at: scratch) }
            for seed in UInt64(batch * 10)..<UInt64(batch * 10 + 10) {
                try EROFSPropertyTests.check(seed: seed, options: EROFSReadBack.testOptions, scratch: scratch)
            }
        }

        @Test(
            "compressed random trees extract and mount equal, byte-identical twice",
            arguments: [EROFSWriterOptions.Compression.lz4, .lz4hc(level: 9)], 0..<3)
        func compressedTrees(compression: EROFSWriterOptions.Compression, batch: Int) throws {
            defer { try? FileManager.default.removeItem(at: scratch) }
            var options = EROFSReadBack.testOptions
            options.compression = compression
            for seed in UInt64(1000 + batch * 10)..<UInt64(1000 + batch * 10 + 10) {
                try EROFSPropertyTests.check(seed: seed, options: options, scratch: scratch)
            }
        }

        @Test("one directory of 70,000 entries of every kind", arguments: [EROFSWriterOptions.Compression.none, .lz4hc(level: 9)])
        func hugeDirectory(compression: EROFSWriterOptions.Compression) throws {
            defer { try? FileManager.default.removeItem(at: scratch) }
            var options = EROFSReadBack.testOptions
            options.compression = compression
            let image = try EXT4TestImage(path: scratch.appendingPathComponent("wide.erofs"), erofs: options)
            try EROFSPropertyTests.fillHugeDirectory(image)
            try image.finish()
            try EROFSReadBack.verify(image)
            #expect(try EROFSReadBack.mountDifferences(image, scratch: scratch) == [])
        }

        /// The 70,000 entries of the ext4 property test: files, symlinks, devices, hardlinks, directories.
        static func fillHugeDirectory(_ image: EXT4TestImage) throws {
            var random = SeededGenerator(seed: 70000)
            let dir = image.directory("wide")
            var first: InodeID?
            for index in 0..<70000 {
                let suffix = String(repeating: "n", count: Int.random(in: 0...200, using: &random))
                let name = Array("e\(index) \(suffix)".utf8) + (index % 7 == 0 ? [0xFF, 0x0A] : [])
                switch index % 5 {
                case 0:
                    let file = try image.file(name, in: dir, chunks: [(0, [UInt8(index % 256)])], size: 1)
                    if first == nil { first = file }
                case 1: image.special(name, kind: .symlink, in: dir, permissions: 0o777, target: Array("t\(index)".utf8))
                case 2: image.special(name, kind: .characterDevice, in: dir, major: 1, minor: UInt32(index % 256))
                case 3: if let first { image.hardlink(first, named: name, in: dir) }
                default: image.directory(name, in: dir)
                }
            }
        }
    }
}
