import Foundation
import Testing

@testable import ImageStore

@Suite("DiskExporter round trips: every disk is read back and compared with its tree", .serialized)
final class DiskExporterTests {
    let scratch: DiskScratch
    let rootfs: URL
    let source: TreeSnapshot

    init() throws {
        scratch = try DiskScratch()
        rootfs = scratch.url("rootfs")
        try SampleTree.makeRich(at: rootfs)
        source = try TreeSnapshot(root: rootfs)
    }

    @Test("ext4 holds the whole tree, passes e2fsck -fn and is shrunk to fit")
    func ext4RoundTrip() async throws {
        let output = scratch.url("out/disk.ext4")
        let result = try await DiskExporter().export(rootfs: rootfs, format: .ext4, to: output)
        try ShellCommand.run("e2fsck", ["-fn", output.path])
        let back = try scratch.withMounted(output, type: "ext4") {
            try TreeSnapshot(root: $0, options: .init(ignoring: ["lost+found"]))
        }
        let diff = source.differences(from: back)
        #expect(diff == [], "\(diff)")
        #expect(result.apparentBytes % 4096 == 0)
        #expect(result.apparentBytes < 16 << 20, "5 MiB of content should not need a 16 MiB filesystem")
        let header = try ShellCommand.run("dumpe2fs", ["-h", output.path])
        #expect(!header.contains("has_journal"))
        #expect(try scratch.tempFiles(in: output.deletingLastPathComponent()) == [])
    }

    @Test("erofs holds the whole tree and passes fsck.erofs", arguments: [true, false])
    func erofsRoundTrip(compressed: Bool) async throws {
        let output = scratch.url("out/disk.erofs")
        _ = try await DiskExporter().export(
            rootfs: rootfs, format: .erofs, to: output, options: ExportOptions(erofsCompressed: compressed))
        try ShellCommand.run("fsck.erofs", [output.path])
        let back = try scratch.withMounted(output, type: "erofs") { try TreeSnapshot(root: $0) }
        let diff = source.differences(from: back)
        #expect(diff == [], "\(diff)")
        let dump = try ShellCommand.run("dump.erofs", ["--path=/usr/share/big.bin", output.path])
        // erofs data layouts: 0 flat plain, 2 flat inline, 1 and 3 compressed.
        let isPlain = dump.contains("Layout: 0") || dump.contains("Layout: 2")
        #expect(isPlain != compressed, "\(dump)")
    }

    @Test("erofs built twice from one tree is byte-identical")
    func erofsIsReproducible() async throws {
        let first = try await DiskExporter().export(rootfs: rootfs, format: .erofs, to: scratch.url("a/disk.erofs"))
        let second = try await DiskExporter().export(rootfs: rootfs, format: .erofs, to: scratch.url("b/disk.erofs"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: first.path)) == Data(contentsOf: URL(fileURLWithPath: second.path)))
    }

    @Test("cpio extracts with GNU cpio to the same tree (xattrs aside)", arguments: ExportOptions.Compression.allCases)
    func cpioRoundTrip(compression: ExportOptions.Compression) async throws {
        let output = scratch.url("out/initrd.cpio")
        _ = try await DiskExporter().export(
            rootfs: rootfs, format: .cpio, to: output, options: ExportOptions(compression: compression))
        let extracted = try scratch.extractWithCpio(output, compression: compression)
        // GNU cpio restores neither directory mtimes nor the mode of the directory it extracts
        // into (`.`), so those are left out here; the bsdtar test below covers them.
        var back = try TreeSnapshot(root: extracted, options: .init(xattrs: false, directoryMtimes: false))
        var expected = try TreeSnapshot(root: rootfs, options: .init(xattrs: false, directoryMtimes: false))
        back.nodes["."] = nil
        expected.nodes["."] = nil
        let diff = expected.differences(from: back)
        #expect(diff == [], "\(diff)")
    }

    @Test("cpio lists . first and parents before children; bsdtar extracts it with hard links")
    func cpioOrderAndBsdtar() async throws {
        let output = scratch.url("out/initrd.cpio")
        _ = try await DiskExporter().export(rootfs: rootfs, format: .cpio, to: output)
        let names = try ShellCommand.run("bsdtar", ["-tf", output.path]).split(separator: "\n").map(String.init)
        #expect(names.first == ".")
        #expect(names.count == source.nodes.count)
        var seen: Set<String> = ["."]
        for name in names.dropFirst() {
            let parent = name.split(separator: "/").dropLast().joined(separator: "/")
            #expect(seen.contains(parent.isEmpty ? "." : parent), "\(name) before its parent")
            seen.insert(name)
        }
        let listing = try ShellCommand.run("bsdtar", ["-tvf", output.path])
        #expect(listing.contains("usr/share/zoneinfo/Europe/Paris link to usr/share/zoneinfo/Europe/Brussels"))
        let target = scratch.url("bsdtar-x")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try ShellCommand.run("bsdtar", ["-xpf", output.path, "-C", target.path])
        // bsdtar restores every mtime except that of the directory it extracts into.
        var back = try TreeSnapshot(root: target, options: .init(xattrs: false))
        var expected = try TreeSnapshot(root: rootfs, options: .init(xattrs: false))
        back.nodes["."]?.mtime = nil
        expected.nodes["."]?.mtime = nil
        let diff = expected.differences(from: back)
        #expect(diff == [], "\(diff)")
    }

    @Test("cpio built twice from one tree is byte-identical", arguments: ExportOptions.Compression.allCases)
    func cpioIsReproducible(compression: ExportOptions.Compression) async throws {
        let options = ExportOptions(compression: compression)
        let first = try await DiskExporter().export(rootfs: rootfs, format: .cpio, to: scratch.url("a/i.cpio"), options: options)
        let second = try await DiskExporter().export(rootfs: rootfs, format: .cpio, to: scratch.url("b/i.cpio"), options: options)
        #expect(try Data(contentsOf: URL(fileURLWithPath: first.path)) == Data(contentsOf: URL(fileURLWithPath: second.path)))
    }

    @Test("an empty rootfs exports in every format", arguments: DiskFormat.singleDiskFormats)
    func emptyRootfs(format: DiskFormat) async throws {
        let empty = scratch.url("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let output = scratch.url("out/empty.\(format)")
        let result = try await DiskExporter().export(rootfs: empty, format: format, to: output)
        #expect(result.apparentBytes > 0)
        let expected = try TreeSnapshot(root: empty)
        switch format {
        case .ext4:
            try ShellCommand.run("e2fsck", ["-fn", output.path])
            let back = try scratch.withMounted(output, type: "ext4") {
                try TreeSnapshot(root: $0, options: .init(ignoring: ["lost+found"]))
            }
            let diff = expected.differences(from: back)
            #expect(diff == [], "\(diff)")
        case .erofs:
            try ShellCommand.run("fsck.erofs", [output.path])
            let back = try scratch.withMounted(output, type: "erofs") { try TreeSnapshot(root: $0) }
            let diff = expected.differences(from: back)
            #expect(diff == [], "\(diff)")
        case .cpio:
            #expect(try ShellCommand.run("bsdtar", ["-tf", output.path]) == ".\n")
        case .erofsLayers:
            Issue.record("erofs-layers is not a single-disk format")
        }
    }

    @Test("a sparse 300 MiB file makes a small ext4 file")
    func sparseFile() async throws {
        let tree = scratch.url("sparse")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        let file = tree.appendingPathComponent("hole.img")
        try Data("head".utf8).write(to: file)
        let handle = try FileHandle(forWritingTo: file)
        try handle.truncate(atOffset: 300 << 20)
        try handle.close()
        let output = scratch.url("out/sparse.ext4")
        let result = try await DiskExporter().export(rootfs: tree, format: .ext4, to: output)
        try ShellCommand.run("e2fsck", ["-fn", output.path])
        #expect(result.allocatedBytes < 32 << 20)
        let back = try scratch.withMounted(output, type: "ext4") {
            try TreeSnapshot(root: $0, options: .init(ignoring: ["lost+found"]))
        }
        let diff = try TreeSnapshot(root: tree).differences(from: back)
        #expect(diff == [], "\(diff)")
    }

    @Test("a rootfs that is not a directory fails permanently and leaves no temp file", arguments: DiskFormat.singleDiskFormats)
    func missingRootfs(format: DiskFormat) async throws {
        let output = scratch.url("out/missing.\(format)")
        let file = scratch.url("rootfs/etc/hostname")
        await #expect(throws: DiskError.notADirectory(path: file.path)) {
            _ = try await DiskExporter().export(rootfs: file, format: format, to: output)
        }
        #expect(!FileManager.default.fileExists(atPath: output.path))
        #expect(try scratch.tempFiles(in: output.deletingLastPathComponent()) == [])
    }

    @Test("options that do not fit the format are refused")
    func invalidOptions() async throws {
        await #expect(throws: DiskError.self) {
            _ = try await DiskExporter().export(
                rootfs: self.rootfs, format: .ext4, to: self.scratch.url("out/x.ext4"),
                options: ExportOptions(compression: .gzip))
        }
        #expect(throws: DiskError.self) { try ExportOptions(erofsLevel: 13).validate(for: .erofs) }
        #expect(throws: Never.self) { try ExportOptions(erofsLevel: 12).validate(for: .erofs) }
        // erofs-layers is one disk per layer of an image: a tree cannot be it.
        await #expect(throws: DiskError.self) {
            _ = try await DiskExporter().export(
                rootfs: self.rootfs, format: .erofsLayers, to: self.scratch.url("out/x.erofs-layers.json"))
        }
        #expect(try scratch.tempFiles(in: scratch.url("out")) == [])
    }

    @Test("a cancelled export leaves neither the disk nor a temp file", arguments: DiskFormat.singleDiskFormats)
    func cancellation(format: DiskFormat) async throws {
        let output = scratch.url("cancel/disk.\(format)")
        let rootfs = self.rootfs
        let task = Task { [rootfs, output] in
            try await DiskExporter().export(rootfs: rootfs, format: format, to: output)
        }
        task.cancel()
        switch await task.result {
        case .success:
            #expect(FileManager.default.fileExists(atPath: output.path))
        case .failure(let error):
            #expect(error is CancellationError, "\(error)")
            #expect(!FileManager.default.fileExists(atPath: output.path))
        }
        #expect(try scratch.tempFiles(in: output.deletingLastPathComponent()) == [])
    }
}
