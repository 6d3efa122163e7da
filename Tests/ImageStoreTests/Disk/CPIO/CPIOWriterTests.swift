import Foundation
import Testing

@testable import ImageStore

@Suite("CPIOWriter newc archives from the model")
final class CPIOWriterTests {
    let scratch: DiskScratch

    init() throws {
        scratch = try DiskScratch()
    }

    /// A small tree of every kind, with a hardlink pair, a hole and an xattr.
    private func sample(_ image: EXT4TestImage) throws {
        let etc = image.directory("etc", permissions: 0o750, uid: 0, gid: 4, time: Timestamp(seconds: 1_700_000_000, nanoseconds: 9))
        try image.file("hostname", in: etc, bytes: Array("box\n".utf8), time: Timestamp(seconds: 1_700_000_001))
        let bin = image.directory("bin")
        let tool = try image.file("tool", in: bin, bytes: Array("#!/bin/true\n".utf8), permissions: 0o4755, uid: 1000, gid: 1000)
        image.hardlink(tool, named: Array("alias".utf8), in: bin)
        image.hardlink(tool, named: Array("zz-alias".utf8), in: .root)
        image.special(Array("sh".utf8), kind: .symlink, in: bin, permissions: 0o777, target: Array("tool".utf8))
        let dev = image.directory("dev")
        image.special(Array("null".utf8), kind: .characterDevice, in: dev, permissions: 0o666, major: 1, minor: 3)
        image.special(Array("big".utf8), kind: .blockDevice, in: dev, permissions: 0o660, major: 259, minor: 70000)
        image.special(Array("fifo".utf8), kind: .fifo, in: dev, permissions: 0o600)
        image.special(Array("sock".utf8), kind: .socket, in: dev, permissions: 0o755)
        try image.file(
            Array("sparse".utf8), chunks: [(10, Array("ab".utf8)), (5000, Array("cd".utf8))], size: 9000,
            xattrs: [Xattr(name: "user.dropped", value: [1])])
        _ = image.directory("empty", in: etc, time: Timestamp(seconds: -5))
    }

    @Test("the header encodes its 13 fields as 8 hex digits at the newc offsets, then name, NUL and padding")
    func headerLayout() {
        let header = CPIOHeader(
            inode: 0x1234, mode: 0o100644, uid: 1000, gid: 0xFFFF_FFFF, nlink: 3, mtime: 0x6553_F100, fileSize: 0xABCDEF,
            rdevMajor: 8, rdevMinor: 0x1_0000)
        let bytes = header.encoded(name: Array("a/b".utf8))
        #expect(bytes.count == 116)  // 110 + 4 (name + NUL), padded to 116
        func field(_ offset: Int) -> String { String(decoding: bytes[offset..<offset + 8], as: UTF8.self) }
        #expect(String(decoding: bytes[0..<6], as: UTF8.self) == "070701")
        #expect(field(6) == "00001234" && field(14) == "000081A4" && field(22) == "000003E8" && field(30) == "FFFFFFFF")
        #expect(field(38) == "00000003" && field(46) == "6553F100" && field(54) == "00ABCDEF")
        #expect(field(62) == "00000000" && field(70) == "00000000" && field(78) == "00000008" && field(86) == "00010000")
        #expect(field(94) == "00000004" && field(102) == "00000000")
        #expect(Array(bytes[110...]) == Array("a/b".utf8) + [0, 0, 0])
        #expect(CPIOHeader.trailer.count == 124 && CPIOHeader.trailer[110..<120] == Array("TRAILER!!!".utf8)[...])
    }

    @Test("entries: . first, depth-first in bytewise name order, numbers in walk order, trailer last")
    func order() throws {
        let path = scratch.url("sample.cpio")
        let image = try CPIOTestArchive.image(at: path)
        try sample(image)
        try image.finish()
        let entries = try CPIOParsedEntry.parse(try CPIOTestArchive.bytes(of: path))
        #expect(
            entries.map(\.path) == [
                ".", "bin", "bin/alias", "bin/sh", "bin/tool", "dev", "dev/big", "dev/fifo", "dev/null", "dev/sock", "etc",
                "etc/empty", "etc/hostname", "sparse", "zz-alias", "TRAILER!!!",
            ])
        // bin/alias, bin/tool and zz-alias are one inode: numbered at its first name.
        #expect(entries.map(\.inode) == [1, 2, 3, 4, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 3, 0])
        #expect(entries.allSatisfy { $0.devMajor == 0 && $0.devMinor == 0 && $0.check == 0 })
        let root = try #require(entries.first)
        #expect(root.nlink == 2 + 3 && root.mode == 0o040755)
    }

    @Test("hardlinks share ino and nlink; the data goes with the last name, earlier names are empty")
    func hardlinks() throws {
        let path = scratch.url("links.cpio")
        let image = try CPIOTestArchive.image(at: path)
        try sample(image)
        try image.finish()
        let entries = try CPIOParsedEntry.parse(try CPIOTestArchive.bytes(of: path))
        let names = ["bin/alias", "bin/tool", "zz-alias"]
        let links = names.compactMap { name in entries.first { $0.path == name } }
        #expect(links.count == 3)
        #expect(links.allSatisfy { $0.nlink == 3 && $0.mode == 0o104755 && $0.uid == 1000 })
        #expect(links.map(\.size) == [0, 0, 12])
        #expect(links.last?.data == Array("#!/bin/true\n".utf8))
    }

    @Test("devices carry rdev; symlinks their target; holes are zeros; times clamp; xattrs are dropped")
    func fields() throws {
        let path = scratch.url("fields.cpio")
        let image = try CPIOTestArchive.image(at: path)
        try sample(image)
        try image.finish()
        let entries = try CPIOParsedEntry.parse(try CPIOTestArchive.bytes(of: path))
        func entry(_ name: String) throws -> CPIOParsedEntry { try #require(entries.first { $0.path == name }) }
        let big = try entry("dev/big")
        #expect(big.mode == 0o060660 && big.rdevMajor == 259 && big.rdevMinor == 70000 && big.size == 0)
        #expect(try entry("dev/sock").mode == 0o140755 && entry("dev/fifo").mode == 0o010600)
        #expect(try entry("bin/sh").data == Array("tool".utf8) && entry("bin/sh").mode == 0o120777)
        var sparse = [UInt8](repeating: 0, count: 9000)
        sparse.replaceSubrange(10..<12, with: Array("ab".utf8))
        sparse.replaceSubrange(5000..<5002, with: Array("cd".utf8))
        #expect(try entry("sparse").data == sparse)
        #expect(try entry("etc").mtime == 1_700_000_000 && entry("etc").gid == 4 && entry("etc/empty").mtime == 0)
        #expect(try entry("etc").nlink == 3)
    }

    @Test("the same model gives byte-identical archives, for every compression", arguments: ExportOptions.Compression.allCases)
    func reproducible(compression: ExportOptions.Compression) throws {
        var outputs: [[UInt8]] = []
        for run in 0..<2 {
            let directory = scratch.url("run-\(run)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let path = directory.appendingPathComponent(run == 0 ? "a.cpio" : "other-name.cpio")
            let image = try CPIOTestArchive.image(at: path, options: CPIOWriterOptions(compression: compression))
            try sample(image)
            try image.file("multi", bytes: EXT4TreeCase.pattern(3 << 20 | 5, seed: 7))
            try image.finish()
            outputs.append([UInt8](try Data(contentsOf: path)))
            // The spool (and the compressor's stderr file) left nothing behind.
            #expect(try CPIOTestArchive.names(in: directory) == [path.lastPathComponent])
            let bare = try CPIOParsedEntry.parse(try CPIOTestArchive.bytes(of: path, compression: compression))
            #expect(bare.first { $0.path == "multi" }?.data == EXT4TreeCase.pattern(3 << 20 | 5, seed: 7))
        }
        #expect(outputs[0] == outputs[1])
        if compression == .gzip { #expect(outputs[0].prefix(2) == [0x1F, 0x8B]) }
        if compression == .zstd { #expect(outputs[0].prefix(4) == [0x28, 0xB5, 0x2F, 0xFD]) }
    }

    @Test("a root entry named TRAILER!!! is refused; the name deeper down is an ordinary name")
    func trailerName() throws {
        let refused = try CPIOTestArchive.image(at: scratch.url("refused.cpio"))
        try refused.file("TRAILER!!!", bytes: Array("x".utf8))
        try refused.file("after", bytes: Array("y".utf8))
        #expect(throws: DiskError.reservedNameForCpio(path: "/TRAILER!!!")) { try refused.finish() }
        #expect(try Data(contentsOf: scratch.url("refused.cpio")).isEmpty)

        let path = scratch.url("nested.cpio")
        let nested = try CPIOTestArchive.image(at: path)
        let dir = nested.directory("dir")
        try nested.file("TRAILER!!!", in: dir, bytes: Array("x".utf8))
        try nested.file("later", bytes: Array("y".utf8))
        try nested.finish()
        let entries = try CPIOParsedEntry.parse(try CPIOTestArchive.bytes(of: path))
        #expect(entries.map(\.path) == [".", "dir", "dir/TRAILER!!!", "later", "TRAILER!!!"])
    }

    @Test("holes count against maxMaterializedZeroBytes (hardlinks once, deleted files not at all); stored zeros do not")
    func zeroLimit() throws {
        func build(limit: Int64, _ body: (EXT4TestImage) throws -> Void) throws -> EXT4TestImage {
            let image = try CPIOTestArchive.image(
                at: scratch.url("limit-\(UUID().uuidString).cpio"), options: CPIOWriterOptions(maxMaterializedZeroBytes: limit))
            try body(image)
            return image
        }
        // 1,000 bytes of holes plus 600: 1,600 > 1,500, the error names the file with the most.
        let over = try build(limit: 1500) { image in
            try image.file(Array("a".utf8), chunks: [(1000, [1])], size: 1001)
            let dir = image.directory("d")
            try image.file(Array("b".utf8), in: dir, chunks: [(0, [1])], size: 601)
        }
        #expect(throws: DiskError.sparseZerosOverLimitForCpio(path: "/a", zeroBytes: 1600, limit: 1500)) { try over.finish() }
        // Exactly at the limit, with a hardlink (counted once) and a deleted sparse file.
        let atLimit = try build(limit: 1600) { image in
            let a = try image.file(Array("a".utf8), chunks: [(1000, [1])], size: 1001)
            image.hardlink(a, named: Array("a2".utf8))
            try image.file(Array("b".utf8), chunks: [(0, [1])], size: 601)
            try image.file(Array("gone".utf8), chunks: [], size: 1 << 30)
            try image.remove(Array("gone".utf8))
            try image.file("zeros", bytes: [UInt8](repeating: 0, count: 5000))
        }
        try atLimit.finish()
        let zero = try build(limit: 0) { image in try image.file(Array("s".utf8), chunks: [], size: 1) }
        #expect(throws: DiskError.sparseZerosOverLimitForCpio(path: "/s", zeroBytes: 1, limit: 0)) { try zero.finish() }
        #expect(CPIOWriterOptions().maxMaterializedZeroBytes == 1 << 30)
        #expect(throws: DiskError.invalidOptions(format: .cpio, reason: "maxMaterializedZeroBytes is negative")) {
            try CPIOWriter(path: self.scratch.url("negative.cpio").path, options: CPIOWriterOptions(maxMaterializedZeroBytes: -1))
        }
    }

    @Test("a file of 4 GiB or more and a name of 4,096 bytes are refused")
    func limits() throws {
        let large = try CPIOTestArchive.image(at: scratch.url("large.cpio"))
        let dir = large.directory("d")
        try large.file(Array("huge".utf8), in: dir, chunks: [(1 << 32, [7])], size: (1 << 32) + 1)
        #expect(throws: DiskError.fileTooLargeForCpio(path: "/d/huge", size: (1 << 32) + 1)) { try large.finish() }

        let long = try CPIOTestArchive.image(at: scratch.url("long.cpio"))
        var parent = InodeID.root
        var path: [UInt8] = []
        for _ in 0..<17 {  // 16 names of 255 bytes and 15 slashes are 4,095 bytes: still allowed
            let name = [UInt8](repeating: UInt8(ascii: "n"), count: 255)
            parent = long.directory(name, in: parent)
            path += (path.isEmpty ? [] : [UInt8(ascii: "/")]) + name
        }
        #expect(throws: DiskError.nameTooLongForCpio(path: String(decoding: path, as: UTF8.self))) { try long.finish() }
    }

    @Test("a missing compressor is reported by name")
    func compressorErrors() throws {
        #expect(CPIOCompressor.arguments(for: .none) == nil)
        #expect(CPIOCompressor.arguments(for: .gzip) == ["gzip", "-n", "-c", "-q"])
        let spool = try SpoolFile(beside: scratch.url("x.cpio").path)
        #expect(throws: DiskError.self) {
            try CPIOCompressor.run(["no-such-compressor-xyz"], input: spool, offset: 0, output: spool.descriptor, outputPath: self.scratch.url("x.cpio").path)
        }
        #expect(throws: DiskError.toolFailed(tool: "false", command: "false", status: 1, stderrTail: "")) {
            try CPIOCompressor.run(["false"], input: spool, offset: 0, output: spool.descriptor, outputPath: self.scratch.url("x.cpio").path)
        }
    }
}
