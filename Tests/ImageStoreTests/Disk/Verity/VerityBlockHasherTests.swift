import Foundation
import Testing

@testable import ImageStore

/// Level 0 hashed while the writers write (``VerityBlockHasher``) against the tree read back
/// from the finished disk: the same bytes, for writes in any order, rewrites, punches, partial
/// last blocks and the random trees of the writers' property tests (deletions and
/// replacements included, so released blocks are punched and reused).
@Suite("Verity level 0 hashed while writing")
final class VerityBlockHasherTests {
    let scratch: DiskScratch

    init() throws { scratch = try DiskScratch() }

    static let salt: [UInt8] = (0..<32).map { UInt8(($0 * 37 + 11) & 0xFF) }

    @Test("writes in any order, a block written twice, punches and a partial last block hash as the file holds them")
    func recordedWrites() async throws {
        let path = scratch.url("blocks.img").path
        let file = try EXT4BlockFile(creating: path, veritySalt: Self.salt)
        var generator = SeededGenerator(seed: 5)
        func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        // More than one hashing batch in one write, then writes behind and ahead of it.
        try file.write(bytes(VerityBlockHasher.batchBlocks * 4096 * 2 + 3 * 4096), at: 10)
        try file.write(bytes(4096), at: 3)
        try file.write(bytes(100), at: 700)  // zero-padded to a block
        try file.write(bytes(3 * 4096), at: 11)  // rewrites blocks 11…13
        try file.punch(20, count: 5)
        try file.write(bytes(4096), at: 22)  // a punched block reused
        try file.punch(600, count: 1)  // blocks never written
        try file.finish(blocks: 800)
        let levelZero = try #require(try file.verityLevelZero())
        let copy = scratch.url("blocks-reread.img").path
        try FileManager.default.copyItem(atPath: path, toPath: copy)

        let recorded = try await VerityTreeWriter(salt: Self.salt).append(to: path, levelZero: levelZero)
        let reread = try await VerityTreeWriter(salt: Self.salt).append(to: copy)
        #expect(recorded == reread)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(contentsOf: URL(fileURLWithPath: copy)))
        try ShellCommand.run(
            "veritysetup", ["verify", path, path, recorded.rootHash, "--hash-offset=\(recorded.hashOffset)"])
    }

    @Test("random trees: the ext4 and erofs writers' recorded level 0 gives the tree read back from the disk", arguments: 0..<4)
    func randomTrees(batch: Int) async throws {
        for seed in UInt64(batch * 5)..<UInt64(batch * 5 + 5) {
            for format in [DiskFormat.ext4, .erofs] {
                let path = scratch.url("tree-\(seed).\(format.rawValue)")
                let writer: any DiskImageWriter =
                    format == .ext4
                    ? try EXT4Writer(path: path.path, options: EXT4TestImage.testOptions, veritySalt: Self.salt)
                    : try EROFSWriter(
                        path: path.path, options: EROFSWriterOptions(uuid: Array(0..<16), compression: seed % 2 == 0 ? .none : .lz4),
                        veritySalt: Self.salt)
                let image = EXT4TestImage(path: path, writer: writer)
                var tree = EXT4RandomTree(seed: seed, image: image)
                try tree.build(entries: 20 + Int(seed % 7) * 15)
                try image.finish()
                let levelZero = try (writer as? any VerityLevelZeroSource)?.verityLevelZero()
                #expect(levelZero != nil, "\(format) seed \(seed): no recorded level 0")
                let copy = scratch.url("tree-\(seed)-reread.\(format.rawValue)")
                try FileManager.default.copyItem(at: path, to: copy)
                let recorded = try await VerityTreeWriter(salt: Self.salt).append(to: path.path, levelZero: levelZero)
                let reread = try await VerityTreeWriter(salt: Self.salt).append(to: copy.path)
                #expect(recorded == reread, "\(format) seed \(seed)")
                #expect(try Data(contentsOf: path) == Data(contentsOf: copy), "\(format) seed \(seed): trees differ")
                try FileManager.default.removeItem(at: path)
                try FileManager.default.removeItem(at: copy)
            }
        }
    }
}
