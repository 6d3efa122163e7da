import Foundation
import Testing

@testable import ImageStore

/// The tree writer against veritysetup (cryptsetup-bin), the reference implementation: the same
/// salt and UUID must give byte-identical files, and `veritysetup verify` must accept ours and
/// refuse it once one byte of the data changed.
@Suite("VerityTreeWriter matches veritysetup format byte for byte")
final class VerityTreeWriterTests {
    let scratch: DiskScratch

    init() throws { scratch = try DiskScratch() }

    /// Sizes around every boundary: one block, a partial block, one full hash block (128), one
    /// more, a read chunk (1,024) and a bit, two levels full (16,384) and one more, plus seeded
    /// random sizes.
    static let sizes: [Int] = {
        var generator = SeededGenerator(seed: 13)
        let fixed = [4096, 4095, 128 * 4096, 129 * 4096, 1025 * 4096 + 100, 2048 * 4096, 16_385 * 4096]
        return fixed + (0..<3).map { _ in Int.random(in: 1...(3_000 * 4096), using: &generator) }
    }()

    @Test("our tree equals veritysetup's, verify accepts it, a flipped data byte fails it", arguments: sizes)
    func matchesVeritysetup(size: Int) async throws {
        var generator = SeededGenerator(seed: UInt64(size))
        let data = Self.randomBytes(size, using: &generator)
        let salt = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let ours = scratch.url("ours-\(size)")
        let theirs = scratch.url("theirs-\(size)")
        try Data(data).write(to: ours)
        try Data(data).write(to: theirs)

        let info = try await VerityTreeWriter(salt: salt).append(to: ours.path)
        let blocks = UInt64((size + 4095) / 4096)
        #expect(info.dataBlocks == blocks && info.hashOffset == blocks * 4096)
        #expect(info.salt == Verity.hex(salt))

        let uuid = Self.uuidText(VeritySuperblock.uuid(forSalt: salt))
        try ShellCommand.run("truncate", ["-s", "\(info.hashOffset)", theirs.path])
        let formatted = try ShellCommand.run(
            "veritysetup",
            ["format", theirs.path, theirs.path, "--hash-offset=\(info.hashOffset)", "--salt=\(info.salt)", "--uuid=\(uuid)"])
        #expect(formatted.contains(info.rootHash), "\(formatted)")
        #expect(try Data(contentsOf: ours) == Data(contentsOf: theirs), "trees differ for \(size) bytes")

        try ShellCommand.run(
            "veritysetup", ["verify", ours.path, ours.path, info.rootHash, "--hash-offset=\(info.hashOffset)"])
        let flipAt = Int.random(in: 0..<size, using: &generator)
        let handle = try FileHandle(forUpdating: ours)
        try handle.seek(toOffset: UInt64(flipAt))
        try handle.write(contentsOf: [data[flipAt] ^ 0x01])
        try handle.close()
        let refused = try ShellCommand.attempt(
            "veritysetup", ["verify", ours.path, ours.path, info.rootHash, "--hash-offset=\(info.hashOffset)"])
        #expect(refused.status != 0, "a flipped byte at \(flipAt) passed: \(refused.output)")
    }

    @Test("an ext4 export carries a tree veritysetup accepts and still mounts; verity off leaves none")
    func exportedDisks() async throws {
        let rootfs = scratch.url("rootfs")
        try SampleTree.makeRich(at: rootfs)
        let source = try TreeSnapshot(root: rootfs)
        for format in [DiskFormat.ext4, .erofs] {
            let output = scratch.url("out/disk.\(format)")
            let salt = Array(repeating: UInt8(7), count: 32)
            let result = try await DiskExporter().export(
                rootfs: rootfs, format: format, to: output, options: ExportOptions(veritySalt: salt))
            let verity = try #require(result.verity)
            #expect(verity.salt == Verity.hex(salt))
            #expect(result.apparentBytes > verity.hashOffset + 4096)
            try ShellCommand.run(
                "veritysetup", ["verify", output.path, output.path, verity.rootHash, "--hash-offset=\(verity.hashOffset)"])
            try ShellCommand.run(format == .ext4 ? "e2fsck" : "fsck.erofs", format == .ext4 ? ["-fn", output.path] : [output.path])
            let back = try scratch.withMounted(output, type: format.rawValue) {
                try TreeSnapshot(root: $0, options: .init(ignoring: ["lost+found"]))
            }
            #expect(source.differences(from: back) == [])

            let plain = scratch.url("out/plain.\(format)")
            let without = try await DiskExporter().export(
                rootfs: rootfs, format: format, to: plain, options: ExportOptions(verity: false))
            #expect(without.verity == nil)
            #expect(without.apparentBytes == verity.hashOffset, "the same filesystem, without the tree")
            let dump = try ShellCommand.attempt("veritysetup", ["dump", plain.path, "--hash-offset=0"])
            #expect(dump.status != 0, "a verity superblock where none should be: \(dump.output)")
        }
        let cpio = try await DiskExporter().export(rootfs: rootfs, format: .cpio, to: scratch.url("out/disk.cpio"))
        #expect(cpio.verity == nil, "cpio never carries a tree")
    }

    private static func uuidText(_ bytes: [UInt8]) -> String {
        let hex = Verity.hex(bytes)
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }

    /// `count` seeded random bytes, eight per draw (a 64 MiB file per byte draw is slow in debug).
    private static func randomBytes(_ count: Int, using generator: inout SeededGenerator) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = generator.next()
            for _ in 0..<min(8, count - index) {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return bytes
    }
}
