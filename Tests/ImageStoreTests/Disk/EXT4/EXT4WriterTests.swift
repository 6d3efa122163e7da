import Foundation
import Testing

@testable import ImageStore

@Suite("EXT4Writer trees")
struct EXT4WriterTests {
    let scratch: URL

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ext4-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    @Test("each tree passes e2fsck -fn silently and mounts read-only as the model", arguments: EXT4TreeCase.allCases)
    func tree(_ treeCase: EXT4TreeCase) throws {
        defer { if ProcessInfo.processInfo.environment["EXT4_KEEP"] == nil { try? FileManager.default.removeItem(at: scratch) } }
        let image = try EXT4TestImage(path: scratch.appendingPathComponent("\(treeCase).ext4"))
        try treeCase.build(image)
        try image.finish()
        #expect(try EXT4ReadBack.fsck(image.path) == [])
        let problems = try EXT4ReadBack.withMount(image.path, scratch: scratch) {
            try EXT4ReadBack.differences(mounted: $0, image: image)
        }
        #expect(problems == [])
    }
}

@Suite("EXT4Writer properties")
struct EXT4WriterPropertyTests {
    let scratch: URL

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ext4-props-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    private func cleanUp() { try? FileManager.default.removeItem(at: scratch) }

    @Test("data of deleted and replaced files is nowhere in the image")
    func noDeadData() throws {
        defer { cleanUp() }
        let image = try EXT4TestImage(path: scratch.appendingPathComponent("dead.ext4"))
        try EXT4TreeCase.deletedAndReplaced.build(image)
        try image.finish()
        let bytes = try [UInt8](Data(contentsOf: image.path))
        let marker = EXT4TreeCase.deadMarker
        let found = bytes.withUnsafeBytes { raw in
            raw.firstRange(of: marker) != nil
        }
        #expect(!found)
        // The marker is found when it is live: the check can fail.
        let live = try EXT4TestImage(path: scratch.appendingPathComponent("live.ext4"))
        try live.file("kept", bytes: marker)
        try live.finish()
        let liveBytes = try [UInt8](Data(contentsOf: live.path))
        #expect(liveBytes.withUnsafeBytes { $0.firstRange(of: marker) } != nil)
    }

    @Test("the same model gives the same bytes; another UUID changes only the UUID field")
    func deterministic() throws {
        defer { cleanUp() }
        func build(_ name: String, uuid: [UInt8]) throws -> [UInt8] {
            let options = EXT4WriterOptions(uuid: uuid, hashSeed: Array(repeating: 7, count: 16))
            let image = try EXT4TestImage(path: scratch.appendingPathComponent(name), options: options)
            try EXT4TreeCase.everyKind.build(image)
            try EXT4TreeCase.deletedAndReplaced.build(image)
            try image.finish()
            return try [UInt8](Data(contentsOf: image.path))
        }
        let first = try build("a.ext4", uuid: Array(repeating: 1, count: 16))
        let second = try build("b.ext4", uuid: Array(repeating: 1, count: 16))
        let other = try build("c.ext4", uuid: Array(repeating: 2, count: 16))
        #expect(first == second)
        #expect(first.count == other.count)
        // Differences only inside s_uuid (0x68..<0x78) of each superblock copy.
        var differing: [Int] = []
        for index in first.indices where first[index] != other[index] { differing.append(index) }
        #expect(!differing.isEmpty)
        #expect(differing.allSatisfy { offset in
            let inBlock = offset % (32768 * 4096)
            return (1024 + 0x68..<1024 + 0x78).contains(inBlock) || (0x68..<0x78).contains(inBlock)
        })
    }

    @Test("a non-directory at /lost+found is refused with a clear error")
    func lostAndFoundFile() throws {
        defer { cleanUp() }
        let image = try EXT4TestImage(path: scratch.appendingPathComponent("lf.ext4"))
        try image.file("lost+found", bytes: [1])
        #expect(throws: DiskError.lostAndFoundNotDirectory(kind: "regular")) { try image.finish() }
        #expect(DiskError.lostAndFoundNotDirectory(kind: "regular").kind == .permanent)
    }

    @Test("xattrs too large for the inode and one block, or of an unknown namespace, are refused")
    func xattrLimits() throws {
        defer { cleanUp() }
        let big = try EXT4TestImage(path: scratch.appendingPathComponent("x1.ext4"))
        try big.file(
            "f", bytes: [1],
            xattrs: [Xattr(name: "user.a", value: Array(repeating: 1, count: 3000)), Xattr(name: "user.b", value: Array(repeating: 2, count: 3000))])
        #expect(throws: DiskError.xattrsTooLargeForExt4(path: "/f", bytes: 6040)) { try big.finish() }
        let odd = try EXT4TestImage(path: scratch.appendingPathComponent("x2.ext4"))
        try odd.file("g", bytes: [1], xattrs: [Xattr(name: "os2.thing", value: [1])])
        #expect(throws: DiskError.xattrUnsupportedForExt4(path: "/g", name: "os2.thing", reason: "unsupportedNamespace")) { try odd.finish() }
        // Just under the limit fits: one 4,000-byte value in the block.
        let fits = try EXT4TestImage(path: scratch.appendingPathComponent("x3.ext4"))
        try fits.file("h", bytes: [1], xattrs: [Xattr(name: "user.a", value: Array(repeating: 1, count: 4040))])
        try fits.finish()
        #expect(try EXT4ReadBack.fsck(fits.path) == [])
    }

    @Test("invalid symlinks and options are refused")
    func invalidInput() throws {
        defer { cleanUp() }
        let image = try EXT4TestImage(path: scratch.appendingPathComponent("s.ext4"))
        image.special(Array("l".utf8), kind: .symlink, target: Array(repeating: 65, count: 4096))
        #expect(throws: DiskError.invalidSymlinkForExt4(path: "/l", length: 4096)) { try image.finish() }
        #expect(throws: DiskError.self) {
            _ = try EXT4Writer(path: scratch.appendingPathComponent("o.ext4").path, options: EXT4WriterOptions(uuid: [1], hashSeed: []))
        }
    }
}
