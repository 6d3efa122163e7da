import Foundation
import TestSupport
import Testing

/// Boots the ext4, erofs, cpio and erofs-layers disks image-worker makes of the `multilayer`
/// fixture (pushed to a real registry, pulled and exported by the built `image-worker export`)
/// under a real kernel in QEMU (TCG) through `scripts/verify-disk.sh`, and checks that the
/// markers printed from inside each image arrive.
///
/// Serialized because each boot keeps one of the machine's two cores busy for seconds under TCG;
/// running them side by side only stretches every boot towards its timeout.
@Suite(
    "verify-disk.sh boots disks under a real kernel",
    .serialized,
    .enabled(
        if: BootEnvironment.isAvailable,
        "qemu-system-x86_64 or a kernel (/boot/vmlinuz-*) is missing: apt-get install qemu-system-x86 linux-image-cloud-amd64"
    )
)
final class BootTests {
    private let scratch: URL
    /// The content of the fixture's /etc/fixture-release (Tests/Fixtures/mkimage.py).
    private let release = "image-worker fixture multilayer release 1 (marker 5b0c1e7a-fixture)"

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appending(path: "boot-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: scratch)
    }

    @Test("a disk boots and prints the fixture marker and the owner uid from inside the image",
          arguments: ["ext4", "erofs", "cpio"])
    func bootsAndPrintsMarkers(format: String) async throws {
        let disk = try await makeDisk(format: format)

        let result = try await verify(disk, format: format, extra: [
            "--expect-marker", "5b0c1e7a-fixture", "--owner-path", "/home/user", "--expect-owner", "1000",
        ])

        print(result.stdout, terminator: "")
        #expect(result.status == 0, "verify-disk.sh failed: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "MARKER-BEGIN")
        #expect(lines.contains("release: \(release)"))
        #expect(lines.contains("uid: 0"))
        #expect(lines.contains("owner: 1000:1000 /home/user"))
        #expect(lines.last == "MARKER-END")
    }

    @Test("a broken disk fails with the kernel's reason", arguments: [
        BrokenDisk(format: "ext4", damage: .truncate, reason: "bad geometry"),
        BrokenDisk(format: "erofs", damage: .garbage, reason: "cannot find valid erofs superblock"),
    ])
    func brokenDiskFails(broken: BrokenDisk) async throws {
        let disk = scratch.appending(path: "broken.\(broken.format)")
        switch broken.damage {
        case .truncate:
            let good = try await makeDisk(format: broken.format)
            let handle = try FileHandle(forWritingTo: good)
            try handle.truncate(atOffset: 4 << 20)
            try handle.close()
            try FileManager.default.moveItem(at: good, to: disk)
        case .garbage:
            let random = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
            let bytes = try #require(try random.read(upToCount: 4 << 20))
            try random.close()
            try bytes.write(to: disk)
        }

        let result = try await verify(disk, format: broken.format, extra: ["--expect-marker", "5b0c1e7a-fixture"])

        print(result.stderr, terminator: "")
        #expect(result.status == 1)
        #expect(!result.stdout.contains("MARKER-END"))
        #expect(result.stderr.contains(
            "boot check failed: \(disk.path) (\(broken.format)): kernel could not mount /dev/vda as \(broken.format)"))
        #expect(result.stderr.contains(broken.reason))
    }

    @Test("a disk opened through dm-verity with its recorded root hash boots; one flipped byte fails the boot",
          arguments: ["ext4", "erofs"])
    func bootsThroughVerity(format: String) async throws {
        let (disk, verity) = try await makeVerityDisk(format: format)
        let options = [
            "--verity-root-hash", verity.root, "--verity-salt", verity.salt, "--verity-hash-offset", verity.offset,
            "--timeout", "150",
        ]

        let result = try await verify(disk, format: format, extra: ["--expect-marker", "5b0c1e7a-fixture"] + options)
        #expect(result.status == 0, "verify-disk.sh failed: \(result.stderr)")
        #expect(result.stdout.contains("release: \(release)"))
        #expect(result.stderr.contains("through dm-verity booted and passed"))

        // Byte 1100 lies in the ext4 and the erofs superblock, in data block 0.
        let handle = try FileHandle(forUpdating: disk)
        try handle.seek(toOffset: 1100)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: 1100)
        try handle.write(contentsOf: [byte ^ 0x01])
        try handle.close()
        let refused = try await verify(disk, format: format, extra: options)
        #expect(refused.status == 1 && !refused.stdout.contains("MARKER-END"))
        #expect(refused.stderr.contains("kernel could not mount /dev/dm-0 as \(format)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("data block 0 is corrupted"), "\(refused.stderr)")
    }

    @Test("erofs-layers: the guest maps each layer disk through dm-verity, stacks them with overlayfs, and the merged root equals the flattened erofs disk entry by entry, the layers' deletions included")
    func erofsLayersBoot() async throws {
        let list = try await makeDisk(format: "erofs-layers")
        let flat = try await makeDisk(format: "erofs")

        let result = try await verify(
            list, format: "erofs-layers", extra: ["--expect-marker", "5b0c1e7a-fixture", "--print-tree", "--timeout", "240"])

        #expect(result.status == 0, "verify-disk.sh failed: \(result.stderr)")
        #expect(result.stdout.contains("release: \(release)"))
        let guest = Self.treeLines(result.stdout)
        let host = try await Self.hostTree(flat, scratch: scratch)
        #expect(guest.count > 50 && guest == host, "guest vs flattened: \(Self.difference(guest, host))")
        // multilayer's layer 2 whites out /opt/delete-me.txt and makes /opt/opaque opaque.
        #expect(!guest.contains { $0.contains("./opt/delete-me.txt") })
        #expect(!guest.contains { $0.contains("./opt/opaque/old-a.txt") })
        #expect(guest.contains { $0.hasSuffix("|./opt/opaque/new-c.txt") })

        // One flipped byte in the base layer's filesystem area: dm-verity refuses that layer.
        let layers = try #require(try ArtifactLayerList.paths(of: list))
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: layers[0]))
        try handle.seek(toOffset: 1100)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: 1100)
        try handle.write(contentsOf: [byte ^ 0x01])
        try handle.close()
        let refused = try await verify(list, format: "erofs-layers", extra: ["--timeout", "240"])
        #expect(refused.status == 1 && !refused.stdout.contains("MARKER-END"), "\(refused.stderr)")
        #expect(refused.stderr.contains("layer 0"), "\(refused.stderr)")
    }

    /// The layer disk paths of an erofs-layers list file, base first.
    enum ArtifactLayerList {
        static func paths(of list: URL) throws -> [String]? {
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: list)) as? [[String: Any]]
            return object?.compactMap { $0["path"] as? String }
        }
    }

    /// The `TREE: ` lines verify-disk.sh printed, without the prefix.
    static func treeLines(_ stdout: String) -> [String] {
        stdout.split(separator: "\n").compactMap { line in
            line.hasPrefix("TREE: ") ? String(line.dropFirst("TREE: ".count)) : nil
        }
    }

    /// The same listing of `disk` (erofs) loop-mounted on the host, made with the same busybox
    /// commands the guest runs.
    static func hostTree(_ disk: URL, scratch: URL) async throws -> [String] {
        let mountPoint = scratch.appending(path: "flat-mnt")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        try await ProcessRunner.check("mount", ["-t", "erofs", "-o", "loop,ro", disk.path, mountPoint.path])
        let script = """
            cd "$1" && busybox find . -xdev | busybox sort | while IFS= read -r p; do
                line=$(busybox stat -c '%F|%a|%u|%g' "$p")
                case "$line" in
                    "regular file"*|"regular empty file"*) line="$line|$(busybox stat -c %s "$p")|$(busybox md5sum < "$p" | busybox cut -c1-32)" ;;
                esac
                echo "$line|$(busybox stat -c %N "$p")"
            done
            """
        let listing = try? await ProcessRunner.run("/bin/busybox", ["sh", "-c", script, "sh", mountPoint.path], environment: ["LC_ALL": "C"])
        _ = try? await ProcessRunner.run("umount", [mountPoint.path])
        let run = try #require(listing)
        #expect(run.status == 0, "\(String(decoding: run.stderr, as: UTF8.self))")
        return String(decoding: run.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// The first lines that differ, for a readable failure.
    static func difference(_ guest: [String], _ host: [String]) -> String {
        let onlyGuest = Set(guest).subtracting(host).sorted().prefix(5)
        let onlyHost = Set(host).subtracting(guest).sorted().prefix(5)
        return "only in the guest: \(Array(onlyGuest)); only in the flattened disk: \(Array(onlyHost))"
    }

    @Test("a boot that outlives its timeout fails with a timeout message")
    func timeoutFails() async throws {
        let disk = try await makeDisk(format: "erofs")

        let result = try await verify(disk, format: "erofs", extra: ["--timeout", "1"])

        #expect(result.status == 1)
        #expect(result.stderr.contains("timed out after 1 s without MARKER-END"))
    }

    // MARK: - Fixture

    /// The `multilayer` fixture (busybox, /etc/fixture-release, /home/user owned by 1000:1000)
    /// pushed to a real registry and exported by the built `image-worker export`.
    private func makeDisk(format: String) async throws -> URL {
        let registry = try await SharedRegistries.shared.registry(.plain)
        try await registry.push(layout: try await FixtureImages.layout("multilayer"), repository: "boot/multilayer", tag: "v1")
        let disk = scratch.appending(path: "disk.\(format)")
        let result = try await ProcessRunner.run(
            BootEnvironment.imageWorker,
            ["export", registry.reference(repository: "boot/multilayer", tag: "v1"), "--format", format,
             "-o", disk.path, "--data-dir", scratch.appending(path: "data").path])
        try #require(result.status == 0, "image-worker export \(format) failed: \(String(decoding: result.stderr, as: UTF8.self))")
        return disk
    }

    /// `makeDisk` with the dm-verity fields `image-worker export --json` printed.
    private func makeVerityDisk(format: String) async throws -> (URL, (root: String, salt: String, offset: String)) {
        let registry = try await SharedRegistries.shared.registry(.plain)
        try await registry.push(layout: try await FixtureImages.layout("multilayer"), repository: "boot/multilayer", tag: "v1")
        let disk = scratch.appending(path: "verity.\(format)")
        let result = try await ProcessRunner.run(
            BootEnvironment.imageWorker,
            ["export", registry.reference(repository: "boot/multilayer", tag: "v1"), "--format", format, "--verity",
             "-o", disk.path, "--json", "--data-dir", scratch.appending(path: "data").path])
        try #require(result.status == 0, "image-worker export \(format) failed: \(String(decoding: result.stderr, as: UTF8.self))")
        let fields = try JSONDecoder().decode([String: String].self, from: result.stdout)
        let root = try #require(fields["verity_root_hash"])
        let salt = try #require(fields["verity_salt"])
        let offset = try #require(fields["verity_hash_offset"])
        return (disk, (root, salt, offset))
    }

    /// Runs verify-disk.sh on `disk` and prints the boot's wall time.
    private func verify(_ disk: URL, format: String, extra: [String]) async throws -> ToolResult {
        let clock = ContinuousClock()
        let start = clock.now
        let run = try await ProcessRunner.run(
            BootEnvironment.script.path, [disk.path, "--format", format, "--timeout", "60"] + extra,  // a later --timeout wins
            environment: ["IMAGE_WORKER_BIN": BootEnvironment.imageWorker])
        let result = ToolResult(
            status: run.status, stdout: String(decoding: run.stdout, as: UTF8.self),
            stderr: String(decoding: run.stderr, as: UTF8.self))
        print("boot \(format) \(disk.lastPathComponent): exit \(result.status) after \(clock.now - start)")
        return result
    }
}

/// A disk damaged on purpose and the kernel message its boot check must report.
struct BrokenDisk: Sendable, CustomTestStringConvertible {
    enum Damage: Sendable { case truncate, garbage }
    let format: String
    let damage: Damage
    let reason: String

    var testDescription: String { "\(damage) \(format)" }
}

/// Where the boot check's tools live, and whether this machine can boot at all.
enum BootEnvironment {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = repository.appending(path: "scripts/verify-disk.sh")

    static var isAvailable: Bool {
        let files = FileManager.default
        let onPath = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            .split(separator: ":").contains { files.isExecutableFile(atPath: "\($0)/qemu-system-x86_64") }
        let kernels = (try? files.contentsOfDirectory(atPath: "/boot"))?.filter { $0.hasPrefix("vmlinuz-") } ?? []
        return onPath && (!kernels.isEmpty || ProcessInfo.processInfo.environment["VERIFY_KERNEL"] != nil)
    }

    /// The built `image-worker`: it exports the disks and builds the script's helper initramfs.
    static var imageWorker: String { Child.imageWorker }
}

/// Exit status and output of verify-disk.sh.
struct ToolResult: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String
}
