import Foundation
import ImageStore
import TestSupport
import Testing

/// Disks written from the model (layers → FilesystemModel → EXT4Writer / EROFSWriter /
/// CPIOWriter), through the real `image-worker export`: reproducible bytes, identities per
/// image, unprivileged runs, bounded memory, sparse files, old times and a hostile `/lost+found`.
@Suite("exports from the model", .serialized)
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
        _ reference: String, to name: String, format: String = "ext4", prefix: [String] = [], owner: uid_t? = nil
    ) async throws -> (disk: URL, run: ProcessResult) {
        let data = scratch.url.appendingPathComponent("data-\(name)")
        let out = scratch.url.appendingPathComponent("out-\(name)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        if let owner {
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            for directory in [data, out] { _ = chown(directory.path, owner, owner) }
        }
        let disk = out.appendingPathComponent("disk.\(format)")
        let run = try await ProcessRunner.run(
            prefix.first ?? Child.imageWorker,
            Array(prefix.dropFirst()) + (prefix.isEmpty ? [] : [Child.imageWorker])
                + ["export", reference, "--format", format, "-o", disk.path, "--data-dir", data.path])
        return (disk, run)
    }

    /// The filesystem UUID: 16 bytes at 1024 + 0x68 (ext4 `s_uuid`) or 1024 + 0x30 (erofs `uuid`).
    private func uuid(_ disk: URL, format: String = "ext4") throws -> Data {
        let handle = try FileHandle(forReadingFrom: disk)
        defer { try? handle.close() }
        try handle.seek(toOffset: 1024 + (format == "erofs" ? 0x30 : 0x68))
        return try handle.read(upToCount: 16) ?? Data()
    }

    @Test("the same digest exported in two data directories is byte-identical (ext4, erofs, cpio); other images get other UUIDs")
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
        let cpioA = try await export(multilayer, to: "cpio-a", format: "cpio")
        let cpioB = try await export(multilayer, to: "cpio-b", format: "cpio")
        try #require(cpioA.run.status == 0 && cpioB.run.status == 0, "\(String(decoding: cpioA.run.stderr, as: UTF8.self))")
        #expect(try Data(contentsOf: cpioA.disk) == Data(contentsOf: cpioB.disk), "two cpio builds of one digest differ")
        let erofsA = try await export(multilayer, to: "erofs-a", format: "erofs")
        let erofsB = try await export(multilayer, to: "erofs-b", format: "erofs")
        let erofsOther = try await export(try await pushed("multilayer-zstd"), to: "erofs-c", format: "erofs")
        for result in [erofsA, erofsB, erofsOther] {
            try #require(result.run.status == 0, "\(String(decoding: result.run.stderr, as: UTF8.self))")
        }
        #expect(try Data(contentsOf: erofsA.disk) == Data(contentsOf: erofsB.disk), "two erofs builds of one digest differ")
        #expect(try uuid(erofsA.disk, format: "erofs") != uuid(erofsOther.disk, format: "erofs"))
        #expect(try uuid(erofsA.disk, format: "erofs") != Data(count: 16))
        #expect(try uuid(erofsA.disk, format: "erofs") != uuid(first.disk), "erofs and ext4 of one image share a UUID")
        let erofsFsck = try await ProcessRunner.run("fsck.erofs", [erofsA.disk.path])
        #expect(erofsFsck.status == 0, "\(erofsFsck.output)")
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
        let erofsRoot = try await export(reference, to: "erofs-root", format: "erofs")
        let erofsNobody = try await export(
            reference, to: "erofs-nobody", format: "erofs",
            prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], owner: 65534)
        try #require(erofsRoot.run.status == 0, "\(String(decoding: erofsRoot.run.stderr, as: UTF8.self))")
        try #require(erofsNobody.run.status == 0, "\(String(decoding: erofsNobody.run.stderr, as: UTF8.self))")
        #expect(
            try Data(contentsOf: erofsRoot.disk) == Data(contentsOf: erofsNobody.disk), "the unprivileged erofs disk differs")
        let home = try await ProcessRunner.check("debugfs", ["-R", "ls -l /home", nobody.disk.path])
        #expect(home.output.contains(" 1000   1000 "), "owner 1000 of the fixture is missing: \(home.output)")
        let devices = try await ProcessRunner.check("debugfs", ["-R", "ls -l /dev", nobody.disk.path])
        #expect(devices.output.contains("fixture-null"), "\(devices.output)")
    }

    /// Runs `image-worker ARGUMENTS`, as uid/gid 65534 through setpriv when `asNobody`.
    private func imageWorker(_ arguments: [String], asNobody: Bool) async throws -> ProcessResult {
        let result =
            asNobody
            ? try await ProcessRunner.run(
                "setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Child.imageWorker] + arguments)
            : try await ProcessRunner.run(Child.imageWorker, arguments)
        try #require(result.status == 0, "image-worker \(arguments.first ?? ""): \(String(decoding: result.stderr, as: UTF8.self))")
        return result
    }

    /// A worker's disks of fixture multilayer, ext4, erofs and cpio, from an imported layout, by format.
    private func workerDisks(_ name: String, asNobody: Bool) async throws -> [String: Data] {
        let data = scratch.url.appendingPathComponent("worker-\(name)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        if asNobody { _ = chown(data.path, 65534, 65534) }
        let digest = try #require(try await FixtureImages.expected("multilayer").manifestDigest)
        try await imageWorker(
            ["import", try await FixtureImages.layout("multilayer").path, "--name", "offline/multilayer:v1",
             "--data-dir", data.path], asNobody: asNobody)
        for format in ["ext4", "erofs", "cpio"] {
            try await imageWorker(
                ["enqueue", "127.0.0.1:9/offline/multilayer@\(digest)", "--format", format, "--data-dir", data.path],
                asNobody: asNobody)
        }
        try await imageWorker(["worker", "--exit-when-idle", "--data-dir", data.path], asNobody: asNobody)
        let rows = try await ProcessRunner.check(
            "sqlite3", [data.appendingPathComponent("image-worker.db").path,
                        "SELECT format || ' ' || status || ' ' || coalesce(artifact_path, error) FROM image_status"])
        var disks: [String: Data] = [:]
        for line in rows.output.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
            try #require(fields.count == 3 && fields[1] == "ready", "\(line)")
            let path = fields[2].hasPrefix("/") ? fields[2] : data.appendingPathComponent(fields[2]).path
            disks[fields[0]] = try Data(contentsOf: URL(fileURLWithPath: path))
        }
        return disks
    }

    @Test("an unprivileged worker builds ext4, erofs and cpio disks byte-identical to a root worker's")
    func unprivilegedWorker() async throws {
        let root = try await workerDisks("root", asNobody: false)
        let nobody = try await workerDisks("nobody", asNobody: true)
        #expect(Set(root.keys) == ["ext4", "erofs", "cpio"])
        for format in root.keys.sorted() {
            #expect(root[format] == nobody[format], "\(format) differs between root and uid 65534")
        }
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

    @Test("a 5 KiB layer declaring a 60 GB sparse file gives a small erofs disk whose file reads back with its hole")
    func erofsSparseKeepsHoles() async throws {
        let image = try await special("sparse-60g")
        let disk = scratch.url.appendingPathComponent("sparse.erofs")
        try await ProcessRunner.check(
            Child.imageWorker,
            ["export", image.reference, "--format", "erofs", "-o", disk.path, "--data-dir", image.data.path])
        var info = stat()
        #expect(stat(disk.path, &info) == 0)
        #expect(Int64(info.st_size) < 64 << 20, "apparent \(info.st_size) bytes: the hole was written out")
        #expect(Int64(info.st_blocks) * 512 < 8 << 20, "allocated \(Int64(info.st_blocks) * 512) bytes")
        let fsck = try await ProcessRunner.run("fsck.erofs", [disk.path])
        #expect(fsck.status == 0, "\(fsck.output)")
        let mount = scratch.url.appendingPathComponent("sparse-mount")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        try await ProcessRunner.check("mount", ["-o", "loop,ro", "-t", "erofs", disk.path, mount.path])
        let huge = mount.appendingPathComponent("huge").path
        let size = try await ProcessRunner.run("stat", ["-c", "%s", huge])
        // 4 KiB before the data read as zeros (the hole), the last 512 bytes are the data.
        let hole = try await ProcessRunner.run(
            "sh", ["-c", "dd if=\"$1\" bs=512 skip=117187491 count=8 status=none | tr -d '\\0' | wc -c", "sh", huge])
        let data = try await ProcessRunner.run(
            "sh", ["-c", "dd if=\"$1\" bs=512 skip=117187499 count=1 status=none | tr -d x | wc -c", "sh", huge])
        try await ProcessRunner.check("umount", [mount.path])
        #expect(size.output.trimmingCharacters(in: .whitespacesAndNewlines) == "60000000000", "\(size.output)")
        #expect(hole.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "the hole holds data: \(hole.output)")
        #expect(data.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "the last 512 bytes are not the data")
    }

    @Test("pre-1970 and nanosecond mtimes survive into ext4 and erofs (mount and fsck.erofs --extract)")
    func oldTimes() async throws {
        let image = try await special("old-times")
        let expected = ["old": "-31536000.123456789", "nano": "1700000000.987654321", "epoch-minus-one": "-1.000000000"]
        for format in ["ext4", "erofs"] {
            let disk = scratch.url.appendingPathComponent("times.\(format)")
            try await ProcessRunner.check(
                Child.imageWorker,
                ["export", image.reference, "--format", format, "-o", disk.path, "--data-dir", image.data.path])
            let mount = scratch.url.appendingPathComponent("times-\(format)")
            try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
            try await ProcessRunner.check("mount", ["-o", "loop,ro", "-t", format, disk.path, mount.path])
            var roots = [mount]
            if format == "erofs" {
                let extracted = scratch.url.appendingPathComponent("times-extract")
                try await ProcessRunner.check("fsck.erofs", ["--extract=" + extracted.path, disk.path])
                roots.append(extracted)
            }
            for root in roots {
                for (name, time) in expected {
                    let seen = try await ProcessRunner.run("stat", ["-c", "%.9Y", root.appendingPathComponent(name).path])
                    #expect(
                        seen.output.trimmingCharacters(in: .whitespacesAndNewlines) == time,
                        "\(format) \(root.lastPathComponent)/\(name): \(seen.output)")
                }
            }
            try await ProcessRunner.check("umount", [mount.path])
        }
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

    @Test("an output filesystem that fills up under O_DIRECT writes (a 3 MiB ext4) fails the export with ENOSPC, exit 75, leaving nothing there; ext4 with and without verity, erofs")
    func outputFilesystemFull() async throws {
        let reference = try await pushed("multilayer")
        let image = scratch.url.appendingPathComponent("small.img")
        let mount = scratch.url.appendingPathComponent("small")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        try await ProcessRunner.check("truncate", ["-s", "3M", image.path])
        try await ProcessRunner.check("mkfs.ext4", ["-q", "-F", "-O", "^has_journal", image.path])
        try await ProcessRunner.check("mount", ["-o", "loop", image.path, mount.path])
        do {
            for (format, extra) in [("ext4", [String]()), ("ext4", ["--no-verity"]), ("erofs", [])] {
                let disk = mount.appendingPathComponent("disk.\(format)")
                let data = scratch.url.appendingPathComponent("data-full-\(format)\(extra.count)")
                let run = try await ProcessRunner.run(
                    Child.imageWorker, ["export", reference, "--format", format, "-o", disk.path, "--data-dir", data.path] + extra)
                let message = String(decoding: run.stderr, as: UTF8.self)
                #expect(run.status == 75, "\(format) \(extra): \(message)")
                #expect(message.contains("No space left on device"), "\(format) \(extra): \(message)")
                let left = try FileManager.default.contentsOfDirectory(atPath: mount.path).filter { $0 != "lost+found" }
                #expect(left.isEmpty, "\(format) \(extra): left behind \(left)")
            }
        } catch {
            _ = try? await ProcessRunner.run("umount", [mount.path])
            throw error
        }
        try await ProcessRunner.check("umount", [mount.path])
        // The same export into room succeeds: the failures above were the filesystem's, not the image's.
        let roomy = try await export(reference, to: "after-full")
        #expect(roomy.run.status == 0, "\(String(decoding: roomy.run.stderr, as: UTF8.self))")
    }
}
