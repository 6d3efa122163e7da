import Foundation
import Testing

@testable import ImageStore

@Suite("Disk support: empty volumes, disk paths, sizing, error classes")
final class DiskSupportTests {
    let scratch: DiskScratch

    init() throws {
        scratch = try DiskScratch()
    }

    @Test("EmptyDisk makes a journaled ext4 file of exactly the asked size")
    func emptyDisk() async throws {
        let output = scratch.url("volumes/data.ext4")
        try await EmptyDisk.create(at: output, sizeBytes: 64 << 20)
        let attributes = try FileManager.default.attributesOfItem(atPath: output.path)
        #expect((attributes[.size] as? NSNumber)?.uint64Value == 64 << 20)
        try ShellCommand.run("e2fsck", ["-fn", output.path])
        let header = try ShellCommand.run("dumpe2fs", ["-h", output.path])
        #expect(header.contains("has_journal"))
        #expect(header.contains("Block count:              16384"))
        #expect(try scratch.tempFiles(in: output.deletingLastPathComponent()) == [])
    }

    @Test("EmptyDisk refuses sizes that are too small or not whole blocks", arguments: [1 << 20, (64 << 20) + 1] as [UInt64])
    func emptyDiskBadSize(size: UInt64) async throws {
        await #expect(throws: DiskError.self) {
            try await EmptyDisk.create(at: self.scratch.url("v.ext4"), sizeBytes: size)
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.url("v.ext4").path))
    }

    @Test("disk paths are disks/<registry>/<repository>/<manifest hex>.<format>")
    func diskPath() throws {
        let layout = DataLayout(root: URL(fileURLWithPath: "/var/lib/image-worker"))
        let hex = String(repeating: "3f5a", count: 16)
        let digest = try Digest(parsing: "sha256:\(hex)")
        let alpine = try ImageReference(parsing: "alpine:3.20")
        #expect(
            layout.diskPath(for: alpine, manifestDigest: digest, format: .ext4).path
                == "/var/lib/image-worker/disks/docker.io/library/alpine/\(hex).ext4")
        let local = try ImageReference(parsing: "localhost:5000/team/app@sha256:\(hex)")
        #expect(
            layout.diskPath(for: local, manifestDigest: digest, format: .cpio).path
                == "/var/lib/image-worker/disks/localhost:5000/team/app/\(hex).cpio")
    }

    @Test("format raw values match schema.sql")
    func formatRawValues() {
        #expect(DiskFormat.allCases.map(\.rawValue) == ["ext4", "erofs", "cpio", "erofs-layers"])
        #expect(DiskFormat.singleDiskFormats == [.ext4, .erofs, .cpio])
    }

    @Test("disk identities are stable per digest and format, differ otherwise, and are RFC 4122 version 4")
    func diskIdentity() throws {
        let a = try Digest(parsing: "sha256:" + String(repeating: "a", count: 64))
        let b = try Digest(parsing: "sha256:" + String(repeating: "b", count: 64))
        let identity = DiskIdentity(manifestDigest: a, format: .ext4)
        #expect(identity == DiskIdentity(manifestDigest: a, format: .ext4))
        #expect(identity.uuid != DiskIdentity(manifestDigest: b, format: .ext4).uuid)
        #expect(identity.uuid != DiskIdentity(manifestDigest: a, format: .erofs).uuid)
        #expect(identity.uuid != identity.hashSeed)
        #expect(DiskIdentity(name: "a.ext4") == DiskIdentity(name: "a.ext4"))
        #expect(DiskIdentity(name: "a.ext4").uuid != DiskIdentity(name: "b.ext4").uuid)
        for uuid in [identity.uuid, identity.hashSeed] {
            let text = uuid.uuidString.lowercased()
            #expect(Array(text)[14] == "4")
            #expect("89ab".contains(Array(text)[19]))
        }
    }

    @Test("out of space and killed tools are transient; refused input is permanent")
    func classification() {
        let full = DiskError.toolFailed(tool: "mkfs.ext4", command: "mkfs.ext4", status: 1, stderrTail: "write: No space left on device")
        let refused = DiskError.toolFailed(tool: "zstd", command: "zstd -T0", status: 1, stderrTail: "invalid option")
        let killed = DiskError.toolFailed(tool: "mkfs.ext4", command: "mkfs.ext4", status: 137, stderrTail: "")
        #expect(full.kind.isTransient)
        #expect(!refused.kind.isTransient)
        #expect(killed.kind.isTransient)
        #expect(DiskError.io(path: "/x", operation: "write", errno: ENOSPC).kind.isTransient)
        #expect(!DiskError.notADirectory(path: "/x").kind.isTransient)
        #expect(refused.description.hasPrefix("export: zstd exited with status 1"))
    }

    @Test("a failing tool reports its status, stderr tail and command")
    func toolFailure() async throws {
        let tool = ExternalTool(name: "mkfs.ext4")
        let missing = scratch.url("no/such/dir/disk.ext4").path
        do {
            try await tool.run(["-q", missing, "1000"])
            Issue.record("mkfs.ext4 on a missing directory succeeded")
        } catch let DiskError.toolFailed(name, command, status, stderrTail) {
            #expect(name == "mkfs.ext4")
            #expect(command.contains(missing))
            #expect(status != 0)
            #expect(!stderrTail.isEmpty)
        }
    }
}
