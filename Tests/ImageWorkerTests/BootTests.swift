import Foundation
import Testing

/// Boots hand-built ext4, erofs and cpio disks under a real kernel in QEMU (TCG) through
/// `scripts/verify-disk.sh`, and checks that the markers printed from inside each image arrive.
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
    private let marker = "fixture-\(UUID().uuidString.lowercased())"

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
        let tree = try makeFixtureTree()
        let disk = try await makeDisk(format: format, from: tree)

        let result = try await verify(disk, format: format, extra: [
            "--expect-marker", marker, "--owner-path", "/home/user", "--expect-owner", "1000",
        ])

        print(result.stdout, terminator: "")
        #expect(result.status == 0, "verify-disk.sh failed: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "MARKER-BEGIN")
        #expect(lines.contains("release: \(marker)"))
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
            let good = try await makeDisk(format: broken.format, from: try makeFixtureTree())
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

        let result = try await verify(disk, format: broken.format, extra: ["--expect-marker", marker])

        print(result.stderr, terminator: "")
        #expect(result.status == 1)
        #expect(!result.stdout.contains("MARKER-END"))
        #expect(result.stderr.contains(
            "boot check failed: \(disk.path) (\(broken.format)): kernel could not mount /dev/vda as \(broken.format)"))
        #expect(result.stderr.contains(broken.reason))
    }

    @Test("a boot that outlives its timeout fails with a timeout message")
    func timeoutFails() async throws {
        let disk = try await makeDisk(format: "erofs", from: try makeFixtureTree())

        let result = try await verify(disk, format: "erofs", extra: ["--timeout", "1"])

        #expect(result.status == 1)
        #expect(result.stderr.contains("timed out after 1 s without MARKER-END"))
    }

    // MARK: - Fixture

    /// A busybox-static root: /bin/busybox and applet links, /etc/fixture-release holding this
    /// test's unique marker, /etc/passwd, and /home/user (directory and file) owned by 1000:1000.
    private func makeFixtureTree() throws -> URL {
        let files = FileManager.default
        let tree = scratch.appending(path: "tree")
        for directory in ["bin", "etc", "home/user", "tmp"] {
            try files.createDirectory(at: tree.appending(path: directory), withIntermediateDirectories: true)
        }
        try files.copyItem(atPath: BootEnvironment.busybox, toPath: tree.appending(path: "bin/busybox").path)
        for applet in ["sh", "cat", "id", "stat", "ls", "poweroff"] {
            try files.createSymbolicLink(atPath: tree.appending(path: "bin/\(applet)").path, withDestinationPath: "busybox")
        }
        try "\(marker)\n".write(to: tree.appending(path: "etc/fixture-release"), atomically: false, encoding: .utf8)
        try "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"
            .write(to: tree.appending(path: "etc/passwd"), atomically: false, encoding: .utf8)
        try "owned by user\n".write(to: tree.appending(path: "home/user/note"), atomically: false, encoding: .utf8)
        for path in ["home/user", "home/user/note"] {
            try files.setAttributes(
                [.ownerAccountID: 1000, .groupOwnerAccountID: 1000], ofItemAtPath: tree.appending(path: path).path)
        }
        return tree
    }

    /// Builds a disk of `format` from `tree` with the system tools (image-worker's exporter replaces these).
    private func makeDisk(format: String, from tree: URL) async throws -> URL {
        let disk = scratch.appending(path: "disk.\(format)")
        let result: ToolResult
        switch format {
        case "ext4":
            result = try await ToolResult.run(
                "mkfs.ext4", ["-q", "-F", "-b", "4096", "-O", "^has_journal", "-d", tree.path, disk.path, "16M"],
                in: scratch)
        case "erofs":
            result = try await ToolResult.run("mkfs.erofs", ["--quiet", disk.path, tree.path], in: scratch)
        default:
            result = try await ToolResult.run(
                "sh", ["-c", "cd \"$1\" && find . | LC_ALL=C sort | cpio -o -H newc --quiet > \"$2\"", "sh",
                       tree.path, disk.path],
                in: scratch)
        }
        try #require(result.status == 0, "building the \(format) fixture failed: \(result.stderr)")
        return disk
    }

    /// Runs verify-disk.sh on `disk` and prints the boot's wall time.
    private func verify(_ disk: URL, format: String, extra: [String]) async throws -> ToolResult {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await ToolResult.run(
            BootEnvironment.script.path, [disk.path, "--format", format, "--timeout", "60"] + extra,
            in: scratch, environment: BootEnvironment.scriptEnvironment)
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
    static let busybox = "/bin/busybox"

    static var isAvailable: Bool {
        let files = FileManager.default
        let onPath = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            .split(separator: ":").contains { files.isExecutableFile(atPath: "\($0)/qemu-system-x86_64") }
        let kernels = (try? files.contentsOfDirectory(atPath: "/boot"))?.filter { $0.hasPrefix("vmlinuz-") } ?? []
        return onPath && (!kernels.isEmpty || ProcessInfo.processInfo.environment["VERIFY_KERNEL"] != nil)
    }

    /// The script builds its helper initramfs with this package's `image-worker` when it is built.
    static var scriptEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        let built = repository.appending(path: ".build/debug/image-worker").path
        if environment["IMAGE_WORKER_BIN"] == nil, FileManager.default.isExecutableFile(atPath: built) {
            environment["IMAGE_WORKER_BIN"] = built
        }
        return environment
    }
}

/// Exit status and captured output of a finished child process.
struct ToolResult: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String

    /// Runs `tool` (looked up on PATH) to completion without blocking a cooperative thread;
    /// output goes to files in `directory` so a chatty child can never fill a pipe.
    static func run(
        _ tool: String, _ arguments: [String], in directory: URL,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> ToolResult {
        let id = UUID().uuidString
        let outURL = directory.appending(path: "\(id).out")
        let errURL = directory.appending(path: "\(id).err")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
            }
        }
        try out.close()
        try err.close()
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        return ToolResult(
            status: status,
            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
