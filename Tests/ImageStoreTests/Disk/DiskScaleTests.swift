import Foundation
import Testing

@testable import ImageStore

@Suite("Disk export of many small files", .serialized)
final class DiskScaleTests {
    let scratch: DiskScratch
    let rootfs: URL

    init() throws {
        scratch = try DiskScratch()
        rootfs = scratch.url("rootfs")
        try SampleTree.makeWide(at: rootfs, count: 20_000)
        try SampleTree.makeZoneinfo(at: rootfs)
    }

    @Test("20,000 files in one directory plus a hard-linked zoneinfo tree fit every format", arguments: DiskFormat.allCases)
    func manySmallFiles(format: DiskFormat) async throws {
        let output = scratch.url("out/many.\(format)")
        let result = try await DiskExporter().export(rootfs: rootfs, format: format, to: output)
        print("many-small-files \(format): \(result.duration), \(result.apparentBytes) bytes, \(result.allocatedBytes) allocated")
        let source = try TreeSnapshot(root: rootfs, options: .init(xattrs: false))
        let back: TreeSnapshot
        switch format {
        case .ext4:
            try ShellCommand.run("e2fsck", ["-fn", output.path])
            back = try scratch.withMounted(output, type: "ext4") {
                try TreeSnapshot(root: $0, options: .init(xattrs: false, ignoring: ["lost+found"]))
            }
        case .erofs:
            try ShellCommand.run("fsck.erofs", [output.path])
            back = try scratch.withMounted(output, type: "erofs") { try TreeSnapshot(root: $0, options: .init(xattrs: false)) }
        case .cpio:
            var extracted = try TreeSnapshot(
                root: try scratch.extractWithCpio(output, compression: .none),
                options: .init(xattrs: false, directoryMtimes: false))
            var expected = try TreeSnapshot(root: rootfs, options: .init(xattrs: false, directoryMtimes: false))
            extracted.nodes["."] = nil
            expected.nodes["."] = nil
            let diff = expected.differences(from: extracted)
            #expect(diff.isEmpty, "\(diff.prefix(10))")
            return
        }
        let diff = source.differences(from: back)
        #expect(diff.isEmpty, "\(diff.prefix(10))")
    }
}
