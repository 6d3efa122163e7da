import Foundation
import ImageStore
import TestSupport
import Testing

extension EndToEnd {
    /// Rows in, disks out: SQL from a shell script, read-back with independent tools, and
    /// dedupe across processes.
    @Suite("Builds") struct Builds {
        @Test("rows a shell script inserts with sqlite3 become ready disks that read back as the fixture")
        func shellInsertToReadBack() async throws {
            let sandbox = try await WorkerSandbox.make("shell")
            let reference = try await PushedImages.shared.reference("multilayer")
            let script = sandbox.directory.appendingPathComponent("enqueue.sh")
            try """
                #!/bin/sh
                # What another service runs: plain SQL, no image-worker code.
                set -e
                sqlite3 "$1" "INSERT INTO images(name) VALUES ('$2')"
                sqlite3 "$1" "INSERT INTO images(name, format) VALUES ('$2', 'erofs'), ('$2', 'cpio')"
                """.write(to: script, atomically: true, encoding: .utf8)
            try await ProcessRunner.check("sh", [script.path, sandbox.database, reference])

            try await sandbox.drain()

            let rows = try await sandbox.rows("SELECT id, format, status, artifact_path FROM image_status ORDER BY id")
            #expect(rows.map { $0["status"] } == ["ready", "ready", "ready"])
            #expect(rows.map { $0["format"] } == ["ext4", "erofs", "cpio"])
            let expected = try await PushedImages.converted("multilayer").tree
            for row in rows {
                let path = try #require(row["artifact_path"])
                let format = try #require(DiskFormat(rawValue: row["format"] ?? ""))
                #expect(path.hasPrefix(sandbox.data.appendingPathComponent("disks").path + "/"))
                try await DiskReadback.verify(path, format: format, expected: expected, scratch: sandbox.directory)
            }
            #expect(sandbox.leftovers().isEmpty)
        }

        @Test("3 workers, 30 rows naming 6 images: all ready, each digest and format converted once", arguments: QueueBackend.allCases)
        func dedupeAcrossProcesses(_ backend: QueueBackend) async throws {
            let sandbox = try await WorkerSandbox.make("dedupe", backend: backend)
            try await sandbox.setSetting(.maxInFlight, 6)
            let images = PushedImages.shared
            // (name, format, fixture): tags, a digest, a second tag of one manifest, other formats.
            let distinct: [(String, DiskFormat, String)] = [
                (try await images.reference("multilayer"), .ext4, "multilayer"),
                (try await images.reference("multilayer", tag: "v2"), .ext4, "multilayer"),
                (try await images.digestReference("multilayer"), .ext4, "multilayer"),
                (try await images.reference("multilayer"), .erofs, "multilayer"),
                (try await images.reference("multiarch"), .cpio, "multiarch"),
                (try await images.digestReference("multiarch"), .cpio, "multiarch"),
                (try await images.reference("multiarch-docker"), .ext4, "multiarch-docker"),
                (try await images.reference("multilayer-zstd"), .ext4, "multilayer-zstd"),
                (try await images.reference("multilayer-docker"), .ext4, "multilayer-docker"),
                (try await images.reference("multilayer-uncompressed"), .erofs, "multilayer-uncompressed"),
            ]
            let rows = (0..<3).flatMap { _ in distinct }
            try await sandbox.insert(rows.map { ($0.0, $0.1) })
            #expect(try await sandbox.sqlite("SELECT count(*) FROM images") == "30")

            try await sandbox.drain(workers: 3, ["--concurrency", "2"])

            let unready = try await sandbox.rows(
                "SELECT id, name, format, status, attempts, error FROM images WHERE status <> 'ready'")
            #expect(unready.isEmpty, "\(unready)")
            var pairs = Set<String>()
            for (_, format, fixture) in distinct {
                pairs.insert("\(try await PushedImages.converted(fixture).manifestDigest) \(format.rawValue)")
            }
            #expect(pairs.count == 7)
            let artifacts = try await sandbox.rows("SELECT manifest_digest, format, conversions, path FROM artifacts")
            #expect(Set(artifacts.map { "\($0["manifest_digest"] ?? "") \($0["format"] ?? "")" }) == pairs)
            #expect(artifacts.count == pairs.count)
            #expect(try await sandbox.sqlite("SELECT max(conversions) FROM artifacts") == "1")
            // Every row points at the artifact of its own digest and format.
            let mismatched = try await sandbox.sqlite(
                """
                SELECT count(*) FROM images AS i JOIN artifacts AS a ON a.id = i.artifact_id
                WHERE a.manifest_digest != i.manifest_digest OR a.format != i.format
                """)
            #expect(mismatched == "0")
            let disks = sandbox.dataFiles().filter { $0.hasPrefix("disks/") && !$0.hasSuffix("/") }
                .filter { path in DiskFormat.allCases.contains { path.hasSuffix(".\($0.fileExtension)") } }
            #expect(disks.count == pairs.count, "\(disks.sorted())")
            #expect(sandbox.leftovers().isEmpty)
        }
    }
}
