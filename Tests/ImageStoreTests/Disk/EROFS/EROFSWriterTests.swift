import Foundation
import Testing

@testable import ImageStore

/// Hand-made trees through the erofs writer: every inode kind, both inode forms, inline and
/// plain data, xattrs, hardlinks, big directories; each read back by fsck.erofs and the kernel.
@Suite("EROFSWriter")
struct EROFSWriterTests {
    let scratch: URL

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("erofs-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    @Test("every kind of inode reads back through fsck.erofs and the kernel")
    func everyKind() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        let image = try EXT4TestImage(path: scratch.appendingPathComponent("kinds.erofs"), erofs: EROFSReadBack.testOptions)
        let etc = image.directory("etc", time: Timestamp(seconds: 1_700_000_000, nanoseconds: 123_456_789))
        try image.file("hosts", in: etc, bytes: Array("127.0.0.1 localhost\n".utf8))
        try image.file("block", in: etc, bytes: EXT4TreeCase.pattern(4096, seed: 1))
        try image.file("blocks-and-tail", in: etc, bytes: EXT4TreeCase.pattern(3 * 4096 + 17, seed: 2))
        try image.file("empty", in: etc, bytes: [])
        let ping = try image.file(
            "ping", bytes: EXT4TreeCase.pattern(9000, seed: 3), permissions: 0o4755, uid: 70000, gid: 5,
            time: Timestamp(seconds: -86_400 * 365, nanoseconds: 5),
            xattrs: [Xattr(name: "security.capability", value: [0, 0, 0, 2, 0, 0x20, 0, 0] + Array(repeating: 0, count: 12))])
        image.hardlink(ping, named: Array("ping-again".utf8), in: etc)
        image.special(Array("short".utf8), kind: .symlink, permissions: 0o777, target: Array("etc/hosts".utf8))
        image.special(Array("long".utf8), kind: .symlink, permissions: 0o777, target: Array(repeating: UInt8(ascii: "x"), count: 4000))
        image.special(Array("null".utf8), kind: .characterDevice, permissions: 0o666, major: 1, minor: 3)
        image.special(Array("big-minor".utf8), kind: .blockDevice, permissions: 0o600, major: 259, minor: 70000)
        image.special(Array("pipe".utf8), kind: .fifo, permissions: 0o600)
        image.special(Array("socket".utf8), kind: .socket, permissions: 0o755)
        try image.file(
            "many-xattrs", bytes: EXT4TreeCase.pattern(100, seed: 4),
            xattrs: (0..<40).map { Xattr(name: "user.attribute-\($0)", value: EXT4TreeCase.pattern(100, seed: UInt8($0))) })
        try image.file(
            "huge-xattrs", bytes: EXT4TreeCase.pattern(5000, seed: 5),
            xattrs: (0..<3).map { Xattr(name: "trusted.big\($0)", value: EXT4TreeCase.pattern(3000, seed: UInt8($0))) })
        try image.finish()
        let problems = try EROFSReadBack.differences(image, scratch: scratch)
        #expect(problems == [])
    }

    @Test("released files leave no data behind and their blocks are reused")
    func releasedData() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        let path = scratch.appendingPathComponent("released.erofs")
        let image = try EXT4TestImage(path: path, erofs: EROFSReadBack.testOptions)
        let marker = EXT4TreeCase.deadMarker
        try image.file("doomed", bytes: Array((0..<2000).map { _ in marker }.joined()))
        try image.remove(Array("doomed".utf8))
        try image.file("kept", bytes: EXT4TreeCase.pattern(10000, seed: 9))
        try image.finish()
        let bytes = try [UInt8](Data(contentsOf: path))
        #expect(bytes.count < 64 * 1024)
        #expect(!Data(bytes).contains(Data(marker)))
        #expect(try EROFSReadBack.differences(image, scratch: scratch) == [])
    }

    @Test("the same model and options give byte-identical images")
    func deterministic() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        var images: [Data] = []
        for attempt in 0..<2 {
            let path = scratch.appendingPathComponent("same-\(attempt).erofs")
            let image = try EXT4TestImage(path: path, erofs: EROFSReadBack.testOptions)
            var tree = EXT4RandomTree(seed: 4242, image: image)
            try tree.build(entries: 200)
            try image.finish()
            images.append(try Data(contentsOf: path))
        }
        #expect(images[0] == images[1])
    }

    @Test("a 200,000-entry directory")
    func wideDirectory() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        let image = try EXT4TestImage(path: scratch.appendingPathComponent("wide.erofs"), erofs: EROFSReadBack.testOptions)
        let dir = image.directory("wide")
        for index in 0..<200_000 { try image.file(Array("file-\(index)".utf8), in: dir, chunks: [], size: 0) }
        try image.finish()
        try EROFSReadBack.verify(image)
        #expect(try EROFSReadBack.mountDifferences(image, scratch: scratch) == [])
    }
}
