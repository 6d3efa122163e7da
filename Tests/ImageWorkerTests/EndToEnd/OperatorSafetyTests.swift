import Foundation
import ImageStore
import TestSupport
import Testing

extension EndToEnd {
    /// Issue #10 items 4, 8, 9, 10, 11, 18, 20: what another local user can reach, disk
    /// identity, gc through other spellings, gc memory, temp-file
    /// cleanup across PID namespaces, global options before the verb.
    @Suite("Operator safety") struct OperatorSafety {
        @Test("nobody can enter the data dir or the scratch: 0700 dirs (tightened from 0755), 0600 disks and blobs")
        func privateFiles() async throws {
            let sandbox = try await WorkerSandbox.make("private")
            chmod(sandbox.data.path, 0o755)
            try await sandbox.insert([(try await PushedImages.shared.reference("multilayer"), .ext4)])
            try await sandbox.drain()

            #expect(Self.mode(sandbox.data.path) == 0o700)
            #expect(Self.mode(sandbox.data.appendingPathComponent("tmp").path) == 0o700)
            let disk = try await sandbox.sqlite("SELECT path FROM artifacts")
            #expect(Self.mode(disk) & 0o077 == 0, "disk mode \(String(Self.mode(disk), radix: 8))")
            let blobs = sandbox.data.appendingPathComponent("oci/blobs/sha256")
            for name in try FileManager.default.contentsOfDirectory(atPath: blobs.path) {
                let path = blobs.appendingPathComponent(name).path
                #expect(Self.mode(path) & 0o007 == 0, "\(name): \(String(Self.mode(path), radix: 8))")
            }
            // The real check: an unprivileged user opens nothing, lists nothing.
            for path in [sandbox.data.path, disk, blobs.path, sandbox.data.appendingPathComponent("tmp").path] {
                let attempt = try await ProcessRunner.run(
                    "setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", "sh", "-c", "if [ -d \"$0\" ]; then ls -- \"$0\"; else cat -- \"$0\" > /dev/null; fi", path])
                #expect(attempt.status != 0, "nobody read \(path): \(String(decoding: attempt.stdout, as: UTF8.self))")
            }
        }

        @Test("--disk-group: that group reads finished disks and nothing else; other users read nothing")
        func diskGroup() async throws {
            let sandbox = try await WorkerSandbox.make("disk-group")
            try await sandbox.insert([(try await PushedImages.shared.reference("multilayer"), .erofs)])
            // gid 100 is Debian's `users`.
            try await sandbox.drain(["--disk-group", "100"])
            let disk = try await sandbox.sqlite("SELECT path FROM artifacts")
            #expect(Self.mode(sandbox.data.path) == 0o710)
            #expect(Self.mode(disk) == 0o640)
            func attempt(_ gid: Int, _ script: String, _ path: String) async throws -> Int32 {
                try await ProcessRunner.run(
                    "setpriv", ["--reuid=65534", "--regid=\(gid)", "--clear-groups", "--", "sh", "-c", script, path]
                ).status
            }
            #expect(try await attempt(100, "cat -- \"$0\" > /dev/null", disk) == 0, "the disk group cannot read \(disk)")
            for path in [sandbox.data.path, sandbox.data.appendingPathComponent("oci").path,
                sandbox.data.appendingPathComponent("tmp").path]
            {
                #expect(try await attempt(100, "ls -- \"$0\"", path) != 0, "the disk group lists \(path)")
            }
            #expect(try await attempt(65534, "cat -- \"$0\" > /dev/null", disk) != 0, "nobody reads \(disk)")
        }

        @Test("disks of different images get different UUIDs; the same digest built in two data dirs the same (ext4, erofs)")
        func diskIdentity() async throws {
            let images = PushedImages.shared
            let first = try await WorkerSandbox.make("uuid-a")
            let second = try await WorkerSandbox.make("uuid-b")
            let multilayer = try await images.reference("multilayer")
            let other = try await images.reference("multilayer-docker")
            try await first.insert([(multilayer, .ext4), (other, .ext4), (multilayer, .erofs), (other, .erofs)])
            try await second.insert([(multilayer, .ext4), (multilayer, .erofs)])
            try await first.drain()
            try await second.drain()
            func identity(_ sandbox: WorkerSandbox, _ name: String, _ format: DiskFormat) async throws -> String {
                let path = try await sandbox.sqlite(
                    "SELECT artifact_path FROM image_status WHERE name = '\(name)' AND format = '\(format.rawValue)'")
                return try await Self.identity(of: path, format: format)
            }
            for format in [DiskFormat.ext4, .erofs] {
                let a = try await identity(first, multilayer, format)
                let b = try await identity(first, other, format)
                let again = try await identity(second, multilayer, format)
                #expect(!a.isEmpty && a != b, "\(format): \(a) vs \(b)")
                #expect(a == again, "\(format): \(a) vs \(again)")
            }
            let ext4 = try await identity(first, multilayer, .ext4)
            let erofs = try await identity(first, multilayer, .erofs)
            #expect(ext4 != erofs)
        }

        @Test("gc through a symlinked --data-dir keeps the ready disk; a disk deleted by hand is rebuilt, not shared")
        func gcThroughSymlinkAndMissingDisk() async throws {
            let sandbox = try await WorkerSandbox.make("gc-symlink")
            let images = PushedImages.shared
            try await sandbox.insert([(try await images.reference("multilayer"), .ext4)])
            try await sandbox.drain()
            let disk = try await sandbox.sqlite("SELECT path FROM artifacts")
            let link = sandbox.directory.appendingPathComponent("link")
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: sandbox.data)
            try await Child.run(Child.imageWorker, ["gc", "--grace", "0", "--data-dir", link.path], in: sandbox.directory)
            #expect(FileManager.default.fileExists(atPath: disk), "gc through \(link.path) deleted \(disk)")

            // Gone behind the worker's back: a new row for the same digest must not share it.
            try FileManager.default.removeItem(atPath: disk)
            try await sandbox.insert([(try await images.digestReference("multilayer"), .ext4)])
            try await sandbox.drain()
            #expect(try await sandbox.sqlite("SELECT count(*) FROM images WHERE status = 'ready'") == "2")
            let size = try await sandbox.sqlite("SELECT size_bytes FROM artifacts")
            #expect(FileManager.default.fileExists(atPath: disk))
            #expect(size == String(DiskFile.allocatedBytes(disk)))
            let expected = try await PushedImages.converted("multilayer").tree
            try await DiskReadback.verify(disk, format: .ext4, expected: expected, scratch: sandbox.directory)
        }

        @Test("gc of a store holding a 300 MB reachable layer stays small (peak RSS) and keeps the layer")
        func gcMemory() async throws {
            let sandbox = try await WorkerSandbox.make("gc-memory")
            let blobs = sandbox.data.appendingPathComponent("oci/blobs/sha256")
            try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
            // A sparse 300 MB layer: reading it whole costs 300 MB of memory, streaming nothing.
            let layerHex = String(repeating: "ab", count: 32)
            let layer = blobs.appendingPathComponent(layerHex)
            _ = FileManager.default.createFile(atPath: layer.path, contents: nil)
            let handle = try FileHandle(forWritingTo: layer)
            try handle.truncate(atOffset: 300_000_000)
            try handle.close()
            let config = Data("{}".utf8)
            let configDigest = ImageStore.SHA256.digest(of: config)
            try config.write(to: blobs.appendingPathComponent(configDigest.encoded))
            let manifest = Data(
                """
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
                "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(configDigest)","size":2},\
                "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:\(layerHex)","size":300000000}]}
                """.utf8)
            let manifestDigest = ImageStore.SHA256.digest(of: manifest)
            try manifest.write(to: blobs.appendingPathComponent(manifestDigest.encoded))
            try await sandbox.sqlite(
                "INSERT INTO images(name, status, digest, manifest_digest, error) VALUES "
                    + "('big', 'failed', '\(manifestDigest)', '\(manifestDigest)', 'kept for gc')")
            let run = try await ProcessRunner.run(
                "/usr/bin/time", ["-f", "peak-rss-kib %M", Child.imageWorker, "gc", "--grace", "0", "--data-dir", sandbox.data.path])
            let stderr = String(decoding: run.stderr, as: UTF8.self)
            #expect(run.status == 0, "\(stderr)")
            let line = try #require(stderr.split(separator: "\n").last { $0.hasPrefix("peak-rss-kib ") })
            let kib = try #require(Int(line.dropFirst("peak-rss-kib ".count)))
            print("gc peak RSS with a 300 MB layer: \(kib / 1024) MiB")
            #expect(kib < 100 * 1024, "gc peak RSS \(kib) KiB")
            #expect(FileManager.default.fileExists(atPath: layer.path))
        }

        @Test("temp-file cleanup from another PID namespace keeps a live writer's file and removes a dead one's")
        func temporaryFilesAcrossPidNamespaces() async throws {
            let sandbox = try await WorkerSandbox.make("pidns")
            let store = try ContentStore(layout: DataLayout(root: sandbox.data))
            let writer = try store.makeWriter()
            try Data("in progress".utf8).withUnsafeBytes { try writer.write($0) }
            // A writer that died: its file is complete (0600) and nobody holds its lock.
            let dead = store.root.appendingPathComponent("blobs/.tmp-1-00000000-dead")
            _ = FileManager.default.createFile(atPath: dead.path, contents: Data("abandoned".utf8), attributes: [.posixPermissions: 0o600])
            let run = try await ProcessRunner.run(
                "unshare", ["--pid", "--fork", Child.imageWorker, "gc", "--grace", "3600", "--data-dir", sandbox.data.path])
            #expect(run.status == 0, "\(String(decoding: run.stderr, as: UTF8.self))")
            #expect(FileManager.default.fileExists(atPath: writer.temporaryPath), "a live writer's temp file was removed")
            #expect(!FileManager.default.fileExists(atPath: dead.path), "a dead writer's temp file was kept")
            writer.discard()
        }

        @Test("export of an image with a 4,061-byte entry path leaves no scratch tree behind, whatever mkfs says")
        func deepPathScratchRemoved() async throws {
            let directory = try TemporaryDirectory(prefix: "deep")
            defer { _ = try? FileTree.remove(directory.url.path) }
            let layout = directory.url.appendingPathComponent("layout")
            let script = FixtureImages.fixturesDirectory.appendingPathComponent("deep-path-image.py")
            let made = try await ProcessRunner.check(ProcessRunner.python, [script.path, layout.path])
            let digest = String(decoding: made.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let data = directory.url.appendingPathComponent("data")
            try await Child.run(
                Child.imageWorker, ["import", layout.path, "--name", "offline/deep:v1", "--data-dir", data.path],
                in: directory.url)
            for format in ["ext4", "erofs", "cpio"] {
                // The export itself may fail (the path is beyond PATH_MAX under the scratch); its
                // tree must go either way.
                _ = try await ProcessRunner.run(
                    Child.imageWorker,
                    ["export", "127.0.0.1:9/offline/deep@\(digest)", "--format", format,
                     "-o", directory.url.appendingPathComponent("out.\(format)").path, "--data-dir", data.path])
                let left = try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("tmp").path)
                #expect(left.isEmpty, "\(format): left \(left)")
            }
        }

        @Test("a stale tree gc and recover cannot remove (a mount inside) is reported, exit 75, and the mounted files survive")
        func cleanupFailureReported() async throws {
            let sandbox = try await WorkerSandbox.make("cleanup-failure")
            let mountPoint = sandbox.data.appendingPathComponent("tmp/build-77-1/rootfs/mnt")
            try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
            let source = sandbox.directory.appendingPathComponent("mounted")
            try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
            try Data("precious".utf8).write(to: source.appendingPathComponent("file"))
            try await ProcessRunner.check("mount", ["--bind", source.path, mountPoint.path])
            defer { Self.unmount(mountPoint.path) }
            let gc = try await ProcessRunner.run(
                Child.imageWorker, ["gc", "--grace", "0", "--json", "--data-dir", sandbox.data.path])
            let stderr = String(decoding: gc.stderr, as: UTF8.self)
            let stdout = String(decoding: gc.stdout, as: UTF8.self)
            #expect(gc.status == 75, "gc exited \(gc.status): \(stderr)")
            #expect(stderr.contains("build-77-1") && stderr.contains("mount point"), "\(stderr)")
            #expect(stdout.contains("\"cleanup_failures\""), "\(stdout)")
            #expect(FileManager.default.fileExists(atPath: source.appendingPathComponent("file").path))
            let recover = try await ProcessRunner.run(Child.imageWorker, ["recover", "--data-dir", sandbox.data.path])
            #expect(recover.status == 75, "recover exited \(recover.status)")
            #expect(String(decoding: recover.stderr, as: UTF8.self).contains("build-77-1"))
        }

        @Test("global options before the verb: image-worker --data-dir X --json migrate")
        func globalOptionsBeforeVerb() async throws {
            let directory = try TemporaryDirectory(prefix: "hoist")
            defer { directory.remove() }
            let data = directory.url.appendingPathComponent("data")
            let output = try await Child.run(
                Child.imageWorker, ["--data-dir", data.path, "--json", "migrate"], in: directory.url)
            #expect(output.contains("\"applied\""), "\(output)")
            #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("image-worker.db").path))
            let listed = try await Child.run(
                Child.imageWorker, ["--log-level=error", "--data-dir=\(data.path)", "list", "--json"], in: directory.url)
            #expect(listed.filter { !$0.isWhitespace } == "[]", "\(listed)")
        }

        // MARK: - Helpers

        /// `umount PATH`, waited for (used from `defer`, which cannot await).
        static func unmount(_ path: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/umount")
            process.arguments = [path]
            guard (try? process.run()) != nil else { return }
            process.waitUntilExit()
        }

        static func mode(_ path: String) -> mode_t {
            var info = stat()
            guard stat(path, &info) == 0 else { return 0o7777 }
            return info.st_mode & 0o7777
        }

        /// The UUID (and for ext4 the hash seed) the filesystem says it has.
        static func identity(of path: String, format: DiskFormat) async throws -> String {
            let tool = format == .ext4 ? ("dumpe2fs", ["-h", path]) : ("dump.erofs", [path])
            let run = try await ProcessRunner.run(tool.0, tool.1)
            let text = String(decoding: run.stdout, as: UTF8.self)
            let wanted = ["Filesystem UUID", "Directory Hash Seed"]
            return text.split(separator: "\n").filter { line in wanted.contains { line.hasPrefix($0) } }
                .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
                .joined(separator: " ")
        }
    }
}
