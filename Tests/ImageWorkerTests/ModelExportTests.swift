import Foundation
import ImageStore
import TestSupport
import Testing

/// ext4 disks written from the model (layers → FilesystemModel → EXT4Writer), through the real
/// `image-worker export`: reproducible bytes, identities per image, unprivileged runs, bounded
/// memory, sparse files and a hostile `/lost+found`.
@Suite("ext4 exports from the model", .serialized)
final class ModelExportTests {
    let scratch: TemporaryDirectory

    init() throws {
        scratch = try TemporaryDirectory(prefix: "model-export")
        // Readable by the unprivileged user of the setpriv test.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: scratch.url.path)
    }

    deinit {
        scratch.remove()
    }

    /// Pushes fixture `image` to the shared plain registry and returns its reference.
    private func pushed(_ image: String) async throws -> String {
        let registry = try await SharedRegistries.shared.registry(.plain)
        try await registry.push(layout: try await FixtureImages.layout(image), repository: "model/\(image)", tag: "v1")
        return registry.reference(repository: "model/\(image)", tag: "v1")
    }

    /// Runs `image-worker export REF --format ext4` with a fresh data directory.
    @discardableResult
    private func export(
        _ reference: String, to name: String, prefix: [String] = [], owner: uid_t? = nil
    ) async throws -> (disk: URL, run: ProcessResult) {
        let data = scratch.url.appendingPathComponent("data-\(name)")
        let out = scratch.url.appendingPathComponent("out-\(name)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        if let owner {
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            for directory in [data, out] { _ = chown(directory.path, owner, owner) }
        }
        let disk = out.appendingPathComponent("disk.ext4")
        let run = try await ProcessRunner.run(
            prefix.first ?? Child.imageWorker,
            Array(prefix.dropFirst()) + (prefix.isEmpty ? [] : [Child.imageWorker])
                + ["export", reference, "--format", "ext4", "-o", disk.path, "--data-dir", data.path])
        return (disk, run)
    }

    /// `s_uuid` of an ext4 image: 16 bytes at 1024 + 0x68.
    private func uuid(_ disk: URL) throws -> Data {
        let handle = try FileHandle(forReadingFrom: disk)
        defer { try? handle.close() }
        try handle.seek(toOffset: 1024 + 0x68)
        return try handle.read(upToCount: 16) ?? Data()
    }

    @Test("the same digest exported in two data directories is byte-identical; other images get other UUIDs")
    func reproducible() async throws {
        let multilayer = try await pushed("multilayer")
        let first = try await export(multilayer, to: "a")
        let second = try await export(multilayer, to: "b")
        let other = try await export(try await pushed("multilayer-zstd"), to: "c")
        for result in [first, second, other] {
            try #require(result.run.status == 0, "\(String(decoding: result.run.stderr, as: UTF8.self))")
        }
        #expect(try Data(contentsOf: first.disk) == Data(contentsOf: second.disk), "two builds of one digest differ")
        #expect(try uuid(first.disk) != uuid(other.disk))
        #expect(try uuid(first.disk) != Data(count: 16))
        let fsck = try await ProcessRunner.run("e2fsck", ["-fn", first.disk.path])
        #expect(fsck.status == 0, "\(fsck.output)")
    }

    @Test("an unprivileged export gives the same disk as root's, owners, devices and setuid bits included")
    func unprivileged() async throws {
        let reference = try await pushed("multilayer")
        let root = try await export(reference, to: "root")
        let nobody = try await export(
            reference, to: "nobody", prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], owner: 65534)
        try #require(root.run.status == 0, "\(String(decoding: root.run.stderr, as: UTF8.self))")
        try #require(nobody.run.status == 0, "\(String(decoding: nobody.run.stderr, as: UTF8.self))")
        var info = stat()
        #expect(stat(nobody.disk.path, &info) == 0 && info.st_uid == 65534, "not written by the unprivileged user")
        #expect(try Data(contentsOf: root.disk) == Data(contentsOf: nobody.disk), "the unprivileged disk differs")
        let home = try await ProcessRunner.check("debugfs", ["-R", "ls -l /home", nobody.disk.path])
        #expect(home.output.contains(" 1000   1000 "), "owner 1000 of the fixture is missing: \(home.output)")
        let devices = try await ProcessRunner.check("debugfs", ["-R", "ls -l /dev", nobody.disk.path])
        #expect(devices.output.contains("fixture-null"), "\(devices.output)")
    }

    /// Imports special-image.py case `name` and returns the reference to export offline.
    private func special(_ name: String) async throws -> (reference: String, data: URL) {
        let directory = scratch.url.appendingPathComponent("special-\(name)")
        let script = FixtureImages.fixturesDirectory.appendingPathComponent("special-image.py")
        let made = try await ProcessRunner.check(ProcessRunner.python, [script.path, directory.path, name])
        let digest = made.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let data = scratch.url.appendingPathComponent("data-\(name)")
        try await ProcessRunner.check(
            Child.imageWorker,
            ["import", directory.appendingPathComponent("layout").path, "--name", "offline/\(name):v1", "--data-dir", data.path])
        return ("127.0.0.1:9/offline/\(name)@\(digest)", data)
    }

    @Test("a layer of 50,000 files at 4,000-byte paths converts in bounded memory")
    func longPathsMemory() async throws {
        let image = try await special("long-paths")
        let disk = scratch.url.appendingPathComponent("long.ext4")
        let report = scratch.url.appendingPathComponent("rss")
        let run = try await ProcessRunner.run(
            "/usr/bin/time",
            ["-f", "%M", "-o", report.path, Child.imageWorker, "export", image.reference, "--format", "ext4",
             "-o", disk.path, "--data-dir", image.data.path])
        try #require(run.status == 0, "\(String(decoding: run.stderr, as: UTF8.self))")
        let kilobytes = try #require(Int(String(contentsOf: report, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // The directory applier's per-layer path sets reached 218 MB here.
        #expect(kilobytes < 100 * 1024, "peak RSS \(kilobytes) KiB")
        let fsck = try await ProcessRunner.run("e2fsck", ["-fn", disk.path])
        #expect(fsck.status == 0, "\(fsck.output)")
        let count = try await ProcessRunner.check("debugfs", ["-R", "ls -p /" + Array(repeating: String(repeating: "d", count: 200), count: 19).joined(separator: "/"), disk.path])
        #expect(count.output.split(separator: "\n").count == 50_002, "entries of the deep directory (with . and ..)")
    }

    @Test("a 5 KiB layer declaring a 60 GB sparse file gives a small ext4 disk that keeps the hole")
    func sparseKeepsHoles() async throws {
        let image = try await special("sparse-60g")
        let disk = scratch.url.appendingPathComponent("sparse.ext4")
        try await ProcessRunner.check(
            Child.imageWorker,
            ["export", image.reference, "--format", "ext4", "-o", disk.path, "--data-dir", image.data.path])
        var info = stat()
        #expect(stat(disk.path, &info) == 0)
        #expect(Int64(info.st_blocks) * 512 < 8 << 20, "allocated \(Int64(info.st_blocks) * 512) bytes")
        let fsck = try await ProcessRunner.run("e2fsck", ["-fn", disk.path])
        #expect(fsck.status == 0, "\(fsck.output)")
        let stat = try await ProcessRunner.check("debugfs", ["-R", "stat /huge", disk.path])
        #expect(stat.output.contains("Size: 60000000000"), "\(stat.output)")
        // One data block, at the logical block of the last 512 bytes: the rest is a hole.
        #expect(stat.output.contains("(14648437):"), "\(stat.output)")
    }

    @Test("a regular file at /lost+found is refused with a clear error; an image's lost+found directory is kept")
    func lostAndFound() async throws {
        let file = try await special("lost-found-file")
        let refused = try await ProcessRunner.run(
            Child.imageWorker,
            ["export", file.reference, "--format", "ext4", "-o", scratch.url.appendingPathComponent("lf.ext4").path,
             "--data-dir", file.data.path])
        let message = String(decoding: refused.stderr, as: UTF8.self)
        #expect(refused.status == 1, "\(message)")
        #expect(message.contains("/lost+found is a regular, not a directory"), "\(message)")
        #expect(!message.contains("mke2fs") && !message.contains("mkfs"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: scratch.url.appendingPathComponent("lf.ext4").path))

        let directory = try await special("lost-found-dir")
        let disk = scratch.url.appendingPathComponent("lfd.ext4")
        try await ProcessRunner.check(
            Child.imageWorker,
            ["export", directory.reference, "--format", "ext4", "-o", disk.path, "--data-dir", directory.data.path])
        let fsck = try await ProcessRunner.run("e2fsck", ["-fn", disk.path])
        #expect(fsck.status == 0, "\(fsck.output)")
        let listing = try await ProcessRunner.check("debugfs", ["-R", "ls -l /lost+found", disk.path])
        #expect(listing.output.contains("kept"), "\(listing.output)")
        let stat = try await ProcessRunner.check("debugfs", ["-R", "stat /lost+found", disk.path])
        #expect(stat.output.contains("Mode:  0700") || stat.output.contains("Mode:  00700"), "\(stat.output)")
    }
}
