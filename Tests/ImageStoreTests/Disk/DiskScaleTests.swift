import Foundation
import Testing

@testable import ImageStore

@Suite("Disk export of many small files")
struct DiskScaleTests {
    /// One test for all formats so the 20,000-file tree is built and snapshotted once.
    @Test("20,000 files in one directory plus a hard-linked zoneinfo tree fit every format")
    func manySmallFiles() async throws {
        let scratch = try DiskScratch()
        let rootfs = scratch.url("rootfs")
        try SampleTree.makeWide(at: rootfs, count: 20_000)
        try SampleTree.makeZoneinfo(at: rootfs)
        let source = try TreeSnapshot(root: rootfs, options: .init(xattrs: false))
        for format in DiskFormat.singleDiskFormats {
            let output = scratch.url("out/many.\(format)")
            let result = try await DiskExporter().export(rootfs: rootfs, format: format, to: output)
            print("many-small-files \(format): \(result.duration), \(result.apparentBytes) bytes")
            var expected = source
            var back: TreeSnapshot
            switch format {
            case .ext4:
                try ShellCommand.run("e2fsck", ["-fn", output.path])
                back = try scratch.withMounted(output, type: "ext4") {
                    try TreeSnapshot(root: $0, options: .init(xattrs: false, ignoring: ["lost+found"]))
                }
            case .erofs:
                try ShellCommand.run("fsck.erofs", [output.path])
                back = try scratch.withMounted(output, type: "erofs") {
                    try TreeSnapshot(root: $0, options: .init(xattrs: false))
                }
            case .cpio:
                // GNU cpio restores neither directory mtimes nor the mode of `.`.
                back = try TreeSnapshot(
                    root: try scratch.extractWithCpio(output, compression: .none),
                    options: .init(xattrs: false, directoryMtimes: false))
                expected = try TreeSnapshot(root: rootfs, options: .init(xattrs: false, directoryMtimes: false))
                back.nodes["."] = nil
                expected.nodes["."] = nil
            case .erofsLayers:
                Issue.record("erofs-layers is not a single-disk format")
                continue
            }
            let diff = expected.differences(from: back)
            #expect(diff.isEmpty, "\(format): \(diff.prefix(10))")
        }
    }
}
