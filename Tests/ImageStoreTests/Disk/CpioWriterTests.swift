import Foundation
import Testing

@testable import ImageStore

@Suite("CpioWriter newc headers")
final class CpioWriterTests {
    /// One parsed newc entry.
    struct Entry {
        var name: String
        var inode: UInt32
        var mode: UInt32
        var uid: UInt32
        var nlink: UInt32
        var size: UInt32
        var rdevMajor: UInt32
        var rdevMinor: UInt32
        var data: [UInt8]
    }

    let scratch: DiskScratch
    let entries: [Entry]
    let archiveSize: Int

    init() throws {
        scratch = try DiskScratch()
        let rootfs = scratch.url("rootfs")
        try SampleTree.makeRich(at: rootfs)
        let output = scratch.url("initrd.cpio")
        try CpioWriter(walker: TreeWalker(root: rootfs)).write(to: output.path, isCancelled: { false })
        let bytes = [UInt8](try Data(contentsOf: output))
        archiveSize = bytes.count
        entries = try CpioWriterTests.parse(bytes)
    }

    @Test("entries are padded to 4 bytes and the archive ends with TRAILER!!!")
    func framing() {
        #expect(archiveSize % 4 == 0)
        #expect(entries.last?.name == "TRAILER!!!")
        #expect(entries.first?.name == ".")
    }

    @Test("hard links share ino and nlink; only the first name carries the data")
    func hardLinks() throws {
        let first = try #require(entries.first { $0.name == "usr/share/zoneinfo/Europe/Brussels" })
        let later = try #require(entries.first { $0.name == "usr/share/zoneinfo/Europe/Paris" })
        #expect(first.inode == later.inode)
        #expect(first.nlink == 2 && later.nlink == 2)
        #expect(first.size == 11 && String(decoding: first.data, as: UTF8.self) == "TZif2 paris")
        #expect(later.size == 0)
        #expect(Set(entries.filter { $0.name != "TRAILER!!!" }.map(\.inode)).count == entries.count - 2)
    }

    @Test("directories count their subdirectories in nlink; devices carry rdev; symlinks their target")
    func fields() throws {
        let root = try #require(entries.first)
        #expect(root.nlink == 2 + 7)  // bin dev données été etc home tmp usr
        #expect(root.mode == 0o040751)
        let null = try #require(entries.first { $0.name == "dev/null" })
        #expect(null.mode == 0o020666 && null.rdevMajor == 1 && null.rdevMinor == 3)
        let loop = try #require(entries.first { $0.name == "dev/loop9" })
        #expect(loop.mode == 0o060660 && loop.rdevMajor == 7 && loop.rdevMinor == 9)
        let link = try #require(entries.first { $0.name == "bin/relative-link" })
        #expect(String(decoding: link.data, as: UTF8.self) == "../etc/hostname")
        let tool = try #require(entries.first { $0.name == "bin/tool" })
        #expect(tool.mode == 0o104755)
        let notes = try #require(entries.first { $0.name == "home/user/notes with space.txt" })
        #expect(notes.uid == 1000)
    }

    /// A strict newc reader: magic, hex fields, name and data padding.
    static func parse(_ bytes: [UInt8]) throws -> [Entry] {
        var entries: [Entry] = []
        var offset = 0
        func field(_ index: Int) throws -> UInt32 {
            let start = offset + 6 + index * 8
            return try #require(UInt32(String(decoding: bytes[start..<start + 8], as: UTF8.self), radix: 16))
        }
        while offset < bytes.count {
            #expect(String(decoding: bytes[offset..<offset + 6], as: UTF8.self) == "070701")
            let nameSize = Int(try field(11))
            let size = Int(try field(6))
            let nameStart = offset + 110
            #expect(bytes[nameStart + nameSize - 1] == 0)
            let name = String(decoding: bytes[nameStart..<nameStart + nameSize - 1], as: UTF8.self)
            let dataStart = (nameStart + nameSize + 3) & ~3
            entries.append(
                Entry(
                    name: name, inode: try field(0), mode: try field(1), uid: try field(2), nlink: try field(4),
                    size: UInt32(size), rdevMajor: try field(9), rdevMinor: try field(10),
                    data: Array(bytes[dataStart..<dataStart + size])))
            offset = (dataStart + size + 3) & ~3
            if name == "TRAILER!!!" { break }
        }
        #expect(offset == bytes.count)
        return entries
    }
}
