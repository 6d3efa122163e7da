import Foundation
import Testing

@testable import ImageStore

@Suite("dm-verity on-disk structures")
struct VerityStructureTests {
    @Test("the superblock has cryptsetup's verity_sb layout: 512 bytes, fields at their documented offsets")
    func superblockLayout() {
        let salt = (0..<32).map { UInt8($0) }
        let uuid = (0..<16).map { UInt8(0xA0 + $0) }
        let bytes = VeritySuperblock(uuid: uuid, dataBlocks: 0x0102_0304_0506, salt: salt).encoded()
        #expect(bytes.count == 512)
        #expect(Array(bytes[0..<8]) == Array("verity".utf8) + [0, 0])
        #expect(bytes.le32(at: 8) == 1, "version")
        #expect(bytes.le32(at: 12) == 1, "hash type 1: salt prepended")
        #expect(Array(bytes[16..<32]) == uuid)
        #expect(Array(bytes[32..<38]) == Array("sha256".utf8) && bytes[38..<64].allSatisfy { $0 == 0 })
        #expect(bytes.le32(at: 64) == 4096 && bytes.le32(at: 68) == 4096)
        #expect(bytes.le64(at: 72) == 0x0102_0304_0506)
        #expect(bytes.le16(at: 80) == 32)
        #expect(bytes[82..<88].allSatisfy { $0 == 0 })
        #expect(Array(bytes[88..<120]) == salt)
        #expect(bytes[120..<512].allSatisfy { $0 == 0 })
    }

    @Test("the superblock UUID is derived from the salt and is a version 4 UUID")
    func superblockUUID() {
        let first = VeritySuperblock.uuid(forSalt: [1, 2, 3])
        #expect(first == VeritySuperblock.uuid(forSalt: [1, 2, 3]))
        #expect(first != VeritySuperblock.uuid(forSalt: [1, 2, 4]))
        #expect(first.count == 16 && first[6] >> 4 == 4 && first[8] >> 6 == 2)
    }

    /// Data blocks → blocks per level (level 0 first) and where each level starts.
    struct LevelCase: Sendable, CustomTestStringConvertible {
        var dataBlocks: UInt64
        var levels: [UInt64]
        var starts: [UInt64]
        var testDescription: String { "\(dataBlocks) blocks" }
    }

    static let levelCases: [LevelCase] = [
        LevelCase(dataBlocks: 1, levels: [], starts: []),
        LevelCase(dataBlocks: 2, levels: [1], starts: [0]),
        LevelCase(dataBlocks: 128, levels: [1], starts: [0]),
        LevelCase(dataBlocks: 129, levels: [2, 1], starts: [1, 0]),
        LevelCase(dataBlocks: 16_384, levels: [128, 1], starts: [1, 0]),
        LevelCase(dataBlocks: 16_385, levels: [129, 2, 1], starts: [3, 1, 0]),
        LevelCase(dataBlocks: 2_097_152, levels: [16_384, 128, 1], starts: [129, 1, 0]),
    ]

    @Test("levels follow the kernel's rule: 128 hashes per block, fewest levels, top level first", arguments: levelCases)
    func geometry(_ expected: LevelCase) {
        let geometry = VerityGeometry(dataBlocks: expected.dataBlocks)
        #expect(geometry.levelBlocks == expected.levels)
        #expect(geometry.levelStart == expected.starts)
        #expect(geometry.treeBlocks == expected.levels.reduce(0, +))
    }

    @Test("the salt comes from the manifest digest alone: the same digest gives the same salt")
    func saltDerivation() throws {
        let digest = try Digest(parsing: "sha256:" + String(repeating: "ab", count: 32))
        let other = try Digest(parsing: "sha256:" + String(repeating: "cd", count: 32))
        #expect(Verity.salt(manifestDigest: digest) == Verity.salt(manifestDigest: digest))
        #expect(Verity.salt(manifestDigest: digest) != Verity.salt(manifestDigest: other))
        #expect(Verity.salt(manifestDigest: digest).count == 32)
        let hasher = SHA256()
        hasher.update(Data("image-worker verity v1\ndigest\n\(digest)".utf8))
        #expect(Verity.hex(Verity.salt(manifestDigest: digest)) == hasher.finalize().encoded)
    }

    @Test("the dm table names the filesystem area in sectors and the tree after the superblock")
    func kernelTable() {
        let info = VerityInfo(rootHash: "aa", salt: "bb", hashOffset: 8192, dataBlocks: 2)
        #expect(info.hashStartBlock == 3)
        #expect(info.kernelTable(dataDevice: "/dev/vda") == "0 16 verity 1 /dev/vda /dev/vda 4096 4096 2 3 sha256 aa bb")
    }
}
