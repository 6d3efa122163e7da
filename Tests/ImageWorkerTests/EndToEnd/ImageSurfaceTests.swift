import Foundation
import ImageStore
import TestSupport
import Testing

extension EndToEnd {
    /// Issue #11: what a VM platform reads back. The public `ImageManager` API in this process,
    /// a real `image-worker worker` in another, the same fields through the sqlite3 CLI and
    /// `status --json`. Expected config values come from the fixture's own config blob.
    @Suite("What a VM platform reads back") struct ImageSurface {
        @Test("createImage → a worker process builds it → getImage has the disk and the boot config; figures match while pending")
        func createBuildGet() async throws {
            let sandbox = try await WorkerSandbox.make("surface")
            let manager = try await ImageManager.open(layout: DataLayout(root: sandbox.data))
            let multilayer = try await PushedImages.shared.reference("multilayer")
            let systemd = try await PushedImages.shared.reference("systemd")
            let zstd = try await PushedImages.shared.reference("multilayer-zstd")

            // No worker yet: everything stays pending, positions and counts come from the database.
            let first = try await manager.createImage(multilayer)
            #expect(first.status == .pending && first.queuePosition == 1 && first.name == multilayer)
            let cpio = try await manager.createImage(multilayer, format: "cpio")
            #expect(cpio.id != first.id && cpio.queuePosition == 2)
            let boot = try await manager.createImage(systemd)
            #expect(boot.queuePosition == 3)
            // Already queued: its current position, no second row (the seed's BuildQueue.Enqueue rule).
            let again = try await manager.createImage(multilayer)
            #expect(again.id == first.id && again.queuePosition == 1)
            // A higher priority goes first and moves the others back.
            let urgent = try await manager.createImage(zstd, priority: 5)
            #expect(urgent.queuePosition == 1)
            #expect(try await manager.getImage(id: first.id).queuePosition == 2)
            #expect(try await manager.getImage(systemd).queuePosition == 4)
            #expect(try await manager.listImages().map(\.id) == [first.id, cpio.id, boot.id, urgent.id])
            #expect(try await manager.queue.pendingCount() == 4)
            #expect(try await manager.queue.activeCount() == 0)
            #expect(try await manager.queue.queueLength() == 4)
            #expect(try await manager.queue.position(of: multilayer) == 2)  // the ext4 row; cpio is 3
            #expect(try await manager.queue.position(of: systemd) == 4)
            #expect(try await manager.queue.position(of: "127.0.0.1:9/not/asked:v1") == nil)

            try await sandbox.drain()

            let image = try await manager.getImage(multilayer, format: "ext4")
            #expect(image.id == first.id && image.status == .ready, "\(image)")
            let config = try await Self.fixtureConfig("multilayer")
            #expect(image.entrypoint == config.entrypoint && image.entrypoint == ["/bin/sh", "-c"])
            #expect(image.cmd == config.cmd)
            #expect(image.env == config.env && image.env?.count == 3)
            #expect(image.workingDir == config.workingDir && image.workingDir == "/home/user")
            #expect(image.user == config.user && image.user == "1000:1000")
            #expect(image.stopSignal == "SIGTERM")
            #expect(image.isSystemd == false)
            #expect(image.queuePosition == nil)
            #expect(image.digest == (try await PushedImages.converted("multilayer")).manifestDigest)
            let path = try #require(image.diskPath)
            #expect(path.hasPrefix(sandbox.data.appendingPathComponent("disks").path + "/") && path.hasSuffix(".ext4"))
            let size = try #require(image.sizeBytes)
            #expect(size > 0 && size == Self.allocatedBytes(path))

            let booted = try await manager.getImage(systemd)
            let systemdConfig = try await Self.fixtureConfig("systemd")
            #expect(booted.status == .ready && booted.isSystemd == true)
            #expect(booted.cmd == ["/sbin/init"] && booted.entrypoint == nil)
            #expect(booted.env == systemdConfig.env && booted.env?.first == "container=oci")
            #expect(booted.environment.map(\.key) == ["container", "PATH", "LANG"])
            #expect(booted.user == "root" && booted.workingDir == "/")

            #expect(try await manager.queue.pendingCount() == 0)
            #expect(try await manager.queue.queueLength() == 0)
            #expect(try await manager.queue.position(of: multilayer) == nil)
            // Asked again once ready: the ready image, no new row.
            let ready = try await manager.createImage(multilayer)
            #expect(ready.id == first.id && ready.status == .ready && ready.diskPath == path)
            #expect(try await manager.listImages().count == 4)
            #expect(try await manager.totalImageBytes() >= size)
        }

        @Test("sqlite3 reads the boot config from image_status, status --json prints the same values, is_systemd for /sbin/init")
        func sqlAndJSON() async throws {
            let sandbox = try await WorkerSandbox.make("surface-sql")
            let multilayer = try await PushedImages.shared.reference("multilayer")
            let systemd = try await PushedImages.shared.reference("systemd")
            try await sandbox.insert([(multilayer, .ext4), (multilayer, .erofs), (systemd, .ext4)])
            try await sandbox.drain()

            // What a SQL-only client runs to boot a VM.
            let rows = try await sandbox.rows(
                """
                SELECT status, artifact_path, size_bytes, entrypoint, cmd, env, working_dir, user, stop_signal,
                       is_systemd FROM image_status WHERE name = '\(multilayer)' AND format = 'ext4'
                """)
            let row = try #require(rows.first)
            let config = try await Self.fixtureConfig("multilayer")
            #expect(row["status"] == "ready")
            #expect(row["entrypoint"] == #"["/bin/sh","-c"]"#)
            #expect(try Self.strings(row["cmd"]) == config.cmd)
            #expect(try Self.strings(row["env"]) == config.env)
            #expect(row["working_dir"] == "/home/user" && row["user"] == "1000:1000" && row["stop_signal"] == "SIGTERM")
            #expect(row["is_systemd"] == "0")
            let booted = try #require(
                try await sandbox.rows("SELECT cmd, entrypoint, is_systemd FROM image_status WHERE name = '\(systemd)'").first)
            #expect(booted["cmd"] == #"["/sbin/init"]"# && booted["entrypoint"] == "" && booted["is_systemd"] == "1")

            // status --json: every matching row (ext4 and erofs), keys equal to the view's columns.
            let output = try await sandbox.imageWorker(["status", multilayer, "--json"])
            let objects = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
            let columns = try await sandbox.sqlite("SELECT name FROM pragma_table_info('image_status') ORDER BY name")
            #expect(objects.count == 2)
            #expect(objects.first?.keys.sorted() == columns.split(separator: "\n").map(String.init))
            let images = try JSONDecoder().decode([Image].self, from: Data(output.utf8))
            #expect(images.map(\.format) == ["ext4", "erofs"])
            let ext4 = try #require(images.first)
            #expect(ext4.diskPath == row["artifact_path"] && ext4.sizeBytes.map(String.init) == row["size_bytes"])
            #expect(ext4.entrypoint == config.entrypoint && ext4.cmd == config.cmd && ext4.env == config.env)
            #expect(ext4.workingDir == row["working_dir"] && ext4.user == row["user"] && ext4.isSystemd == false)
            let systemdJSON = try await sandbox.imageWorker(["status", systemd, "--json"])
            #expect(try JSONDecoder().decode([Image].self, from: Data(systemdJSON.utf8)).map(\.isSystemd) == [true])

            // list --json prints the same objects for every row.
            let listed = try JSONDecoder().decode([Image].self, from: Data(try await sandbox.imageWorker(["list", "--json"]).utf8))
            #expect(listed.count == 3 && Array(listed.prefix(2)) == images)
            // The default list fits 100 columns and shows disk paths relative to the data
            // directory, the file name kept (its digest cut to 12 hex digits).
            let table = try await sandbox.imageWorker(["list"])
            let lines = table.split(separator: "\n")
            #expect(lines.count == 4 && lines.allSatisfy { $0.count <= 100 }, "\(table)")
            let hex = try #require(ext4.manifestDigest?.dropFirst("sha256:".count).prefix(12))
            #expect(lines[1].hasSuffix("/\(hex)….verity.ext4") && lines[2].hasSuffix("/\(hex)….verity.erofs"), "\(table)")
            #expect(!table.contains(sandbox.data.path), "\(table)")
        }

        @Test("pull --wait ends with the disk path, size and time; --json prints the Image")
        func pullWait() async throws {
            let sandbox = try await WorkerSandbox.make("surface-pull")
            let reference = try await PushedImages.shared.reference("multilayer")
            _ = try sandbox.startWorker()
            let line = try await sandbox.imageWorker(["pull", reference, "--wait", "--timeout", "120"])
            let manager = try await ImageManager.open(layout: DataLayout(root: sandbox.data))
            let image = try await manager.getImage(reference)
            let path = try #require(image.diskPath)
            #expect(line.hasPrefix("ready \(reference) \(image.digest ?? "-"): \(path), "), "\(line)")
            #expect(line.range(of: #" [0-9.]+ (B|KiB|MiB), [0-9]+\.[0-9]{2} s\n$"#, options: .regularExpression) != nil, "\(line)")
            // Ready already: the same row, printed as an Image.
            let json = try await sandbox.imageWorker(["pull", reference, "--wait", "--json"])
            let again = try JSONDecoder().decode(Image.self, from: Data(json.utf8))
            #expect(again.id == image.id && again.status == .ready && again.diskPath == path)
        }

        // MARK: - Helpers

        /// The `config` object of fixture `name`'s config blob, as mkimage.py wrote it (decoded
        /// here, not with ImageStore's types).
        static func fixtureConfig(_ name: String) async throws -> FixtureConfig {
            let expected = try await FixtureImages.expected(name)
            let digest = try #require(expected.configDigest)
            let blob = try await FixtureImages.layout(name)
                .appendingPathComponent("blobs/sha256/\(digest.dropFirst("sha256:".count))")
            return try JSONDecoder().decode(FixtureConfigFile.self, from: Data(contentsOf: blob)).config
        }

        struct FixtureConfigFile: Decodable {
            let config: FixtureConfig
        }

        struct FixtureConfig: Decodable {
            let entrypoint: [String]?
            let cmd: [String]?
            let env: [String]?
            let workingDir: String?
            let user: String?

            enum CodingKeys: String, CodingKey {
                case entrypoint = "Entrypoint", cmd = "Cmd", env = "Env", workingDir = "WorkingDir", user = "User"
            }
        }

        static func strings(_ text: String?) throws -> [String] {
            try JSONDecoder().decode([String].self, from: Data((text ?? "").utf8))
        }

        static func allocatedBytes(_ path: String) -> Int64 {
            var info = stat()
            guard stat(path, &info) == 0 else { return -1 }
            return Int64(info.st_blocks) * 512
        }
    }
}
