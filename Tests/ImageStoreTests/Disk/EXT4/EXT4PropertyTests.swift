import Foundation
import Testing

@testable import ImageStore

extension CPUBound {
    /// Random trees through the writer, each checked by e2fsck and the kernel. Seeds are fixed (the
    /// failing seed is the test case's argument); each test case writes and checks 10 trees.
    @Suite("EXT4Writer random trees")
    struct EXT4PropertyTests {
        let scratch: URL

        init() throws {
            scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ext4-random-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        }

        @Test("random trees pass e2fsck -fn silently and read back equal", arguments: 0..<20)
        func randomTrees(batch: Int) throws {
            defer { try? FileManager.default.removeItem(at: scratch) }
            for seed in UInt64(batch * 10)..<UInt64(batch * 10 + 10) {
                let path = scratch.appendingPathComponent("tree-\(seed).ext4")
                let image = try EXT4TestImage(path: path)
                var tree = EXT4RandomTree(seed: seed, image: image)
                try tree.build(entries: 20 + Int(seed % 7) * 15)
                try image.finish()
                let fsck = try EXT4ReadBack.fsck(path)
                #expect(fsck == [], "seed \(seed)")
                let problems = try EXT4ReadBack.withMount(path, scratch: scratch) { try EXT4ReadBack.differences(mounted: $0, image: image) }
                #expect(problems == [], "seed \(seed)")
                try FileManager.default.removeItem(at: path)
            }
        }

        @Test("one directory of 70,000 entries of every kind")
        func hugeDirectory() throws {
            defer { try? FileManager.default.removeItem(at: scratch) }
            let path = scratch.appendingPathComponent("wide.ext4")
            let image = try EXT4TestImage(path: path)
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
            try image.finish()
            #expect(try EXT4ReadBack.fsck(path) == [])
            let problems = try EXT4ReadBack.withMount(path, scratch: scratch) { try EXT4ReadBack.differences(mounted: $0, image: image) }
            #expect(problems == [])
        }
    }
}
