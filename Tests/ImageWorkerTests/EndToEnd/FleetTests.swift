import Foundation
import ImageStore
import TestSupport
import Testing

extension EndToEnd {
    /// Issue 14's fleet acceptance test: one PostgreSQL database, two hosts (separate data
    /// directories and host ids), two real worker processes on each, rows pinned and unpinned
    /// inserted with psql while the workers run, one worker SIGKILLed mid-build.
    @Suite("Fleet") struct Fleet {
        /// One simulated host: its id, its data directory, its worker processes.
        final class Host: @unchecked Sendable {
            let id: String
            let data: URL
            var workers: [Child] = []

            init(id: String, under directory: URL) throws {
                self.id = id
                data = directory.appendingPathComponent(id)
                try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            }

            /// Every file under the data directory's `tmp/` and every `.tmp-` file under `disks/`.
            func leftovers() -> [String] {
                var result: [String] = []
                let enumerator = FileManager.default.enumerator(atPath: data.path)
                while let path = enumerator?.nextObject() as? String {
                    if path.hasPrefix("tmp/") || (path.hasPrefix("disks/") && path.contains(".tmp-")) {
                        result.append(path)
                    }
                }
                return result.sorted()
            }

            /// Regular files under `disks/`.
            func disks() -> [String] {
                var result: [String] = []
                let root = data.appendingPathComponent("disks")
                let enumerator = FileManager.default.enumerator(atPath: root.path)
                while let path = enumerator?.nextObject() as? String {
                    var isDirectory: ObjCBool = false
                    let full = root.appendingPathComponent(path).path
                    if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                        result.append(full)
                    }
                }
                return result.sorted()
            }
        }

        @Test("two hosts, two workers each, pinned and unpinned rows, one worker SIGKILLed: every row ready on the right host")
        func twoHostsOneKill() async throws {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("iw-fleet-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let cluster = try await SharedPostgres.shared.cluster()
            let url = try await cluster.createDatabase(prefix: "fleet")
            let hosts = [try Host(id: "fleet-a", under: directory), try Host(id: "fleet-b", under: directory)]
            defer {
                for worker in hosts.flatMap(\.workers) where worker.process.isRunning {
                    kill(worker.process.processIdentifier, SIGKILL)
                    worker.process.waitUntilExit()
                }
                try? FileManager.default.removeItem(at: directory)
            }
            @discardableResult func psql(_ sql: String) async throws -> String { try await cluster.psql(url, sql) }

            try await Child.run(Child.imageWorker, ["migrate", "--db", url], in: directory)
            // A short lease so the killed worker's row comes back quickly; recovery runs in
            // every worker's housekeeping (every 10 s), on the database's clock.
            try await psql("UPDATE settings SET value = 2000 WHERE key = 'lease_ms'")
            try await psql("UPDATE settings SET value = 4 WHERE key = 'max_in_flight'")

            let images = PushedImages.shared
            let large = try await images.reference("large")
            let multilayer = try await images.reference("multilayer")
            let multilayerDigest = try await images.digestReference("multilayer")
            let multiarch = try await images.reference("multiarch")
            let zstd = try await images.reference("multilayer-zstd")
            let docker = try await images.reference("multilayer-docker")

            for host in hosts {
                for index in 1...2 {
                    host.workers.append(
                        try Child(
                            Child.imageWorker,
                            [
                                "worker", "--db", url, "--data-dir", host.data.path, "--host-id", host.id,
                                "--worker-name", "\(host.id)-w\(index)", "--poll-interval-ms", "100",
                            ], in: directory))
                }
            }

            // The row whose worker dies: 200 MiB, pinned to fleet-a, so the kill lands mid-build.
            try await psql("INSERT INTO images (name, target_host) VALUES ('\(large)', 'fleet-a')")
            try await psql(
                """
                INSERT INTO images (name, format, target_host) VALUES
                    ('\(multilayer)', 'ext4', NULL), ('\(multilayerDigest)', 'ext4', NULL),
                    ('\(multilayer)', 'ext4', 'fleet-a'), ('\(multilayer)', 'ext4', 'fleet-b'),
                    ('\(multiarch)', 'cpio', 'fleet-b'), ('\(multiarch)', 'cpio', NULL)
                """)

            // Kill whichever fleet-a worker builds the large image, once its disk is being written
            // (the layer is applied while it downloads, so that is already while pulling).
            var holder = ""
            try await Child.waitUntil("the large image to be building", seconds: 120) {
                try await Task.sleep(for: .milliseconds(50))
                holder = try await psql(
                    "SELECT coalesce(worker_id, '') FROM images WHERE id = 1 AND status IN ('pulling', 'converting')")
                return !holder.isEmpty && hosts[0].leftovers().contains { $0.hasPrefix("tmp/build-1-") }
            }
            let doomedName = String(holder.split(separator: ":").first ?? "")
            let doomed = try #require(hosts[0].workers.first { $0.process.arguments?.contains(doomedName) == true })
            kill(doomed.process.processIdentifier, SIGKILL)
            try await doomed.wait()
            #expect(["pulling", "converting"].contains(try await psql("SELECT status FROM images WHERE id = 1")))
            #expect(hosts[0].leftovers().contains { $0.hasPrefix("tmp/build-1-") }, "the kill left scratch behind")

            // More rows while the fleet runs with one worker down.
            try await psql(
                """
                INSERT INTO images (name, format, target_host) VALUES
                    ('\(zstd)', 'ext4', NULL), ('\(docker)', 'ext4', 'fleet-a'), ('\(docker)', 'ext4', 'fleet-b'),
                    ('\(zstd)', 'cpio', 'fleet-a')
                """)

            try await Child.waitUntil("every row ready", seconds: 240) {
                try await Task.sleep(for: .milliseconds(250))
                return try await psql("SELECT count(*) FROM images WHERE status <> 'ready'") == "0"
            }
            // Recovery removes the killed build's scratch in fleet-a's next housekeeping pass.
            try await Child.waitUntil("no scratch left on any host", seconds: 60) {
                try await Task.sleep(for: .milliseconds(250))
                return hosts.allSatisfy { $0.leftovers().isEmpty }
            }

            let rows = try await query(
                cluster, url,
                "SELECT id, format, target_host, artifact_host, artifact_path, attempts FROM image_status ORDER BY id")
            #expect(rows.count == 11)
            for row in rows {
                let artifactHost = try #require(row["artifact_host"], "row \(row)")
                if let target = row["target_host"] {
                    #expect(artifactHost == target, "pinned row \(row) is ready on its host")
                }
                let host = try #require(hosts.first { $0.id == artifactHost }, "row \(row)")
                let path = try #require(row["artifact_path"])
                #expect(path.hasPrefix(host.data.appendingPathComponent("disks").path + "/"), "row \(row)")
                #expect(FileManager.default.fileExists(atPath: path), "row \(row)")
            }
            #expect(rows.first?["attempts"] == "2", "the killed build was claimed again once")

            // One disk per (host, digest, format): in the database and on each host's disk.
            let perKey = try await psql(
                "SELECT count(*) FROM (SELECT host, manifest_digest, format, verity, count(*) AS n FROM artifacts GROUP BY 1, 2, 3, 4) AS k WHERE n > 1")
            #expect(perKey == "0")
            #expect(try await psql("SELECT count(*) FROM artifacts WHERE state <> 'ready'") == "0")
            for host in hosts {
                let recorded = Set(
                    try await psql("SELECT path FROM artifacts WHERE host = '\(host.id)'").split(separator: "\n").map(String.init))
                #expect(Set(host.disks()) == recorded, "\(host.id): disk files are exactly its artifacts")
            }

            // 0 double claims: every claim a worker logged is a lease token the row handed out,
            // each row was made ready by exactly one build, and no worker ever lost a lease.
            let logs = hosts.flatMap(\.workers).map(\.stderr)
            #expect(!logs.contains { $0.contains("lease lost") })
            var claims: [Int: Int] = [:]
            var readies: [Int: Int] = [:]
            for line in logs.flatMap({ $0.split(separator: "\n") }) {
                guard let id = Self.metadata(line, "id").flatMap(Int.init) else { continue }
                if line.hasSuffix("claimed; status pulling") { claims[id, default: 0] += 1 }
                if line.contains("build finished"),
                    let outcome = Self.metadata(line, "outcome"), outcome == "ready" || outcome == "shared"
                {
                    readies[id, default: 0] += 1
                }
            }
            let tokens = try await query(cluster, url, "SELECT id, lease_token FROM images ORDER BY id")
            for row in tokens {
                let id = try #require(Int(row["id"] ?? ""))
                #expect(claims[id] == Int(row["lease_token"] ?? ""), "row \(id): claims logged vs tokens issued")
                #expect(readies[id] == 1, "row \(id) made ready once")
            }

            // Each host's usage counts only its own disks.
            for host in hosts {
                let usage = try await Child.run(
                    Child.imageWorker, ["usage", "--db", url, "--data-dir", host.data.path, "--host-id", host.id, "--json"],
                    in: directory)
                let expected = host.disks().reduce(Int64(0)) { $0 + DiskFile.allocatedBytes($1) }
                let fields = try #require(try JSONSerialization.jsonObject(with: Data(usage.utf8)) as? [String: Any])
                #expect((fields["image_bytes"] as? NSNumber)?.int64Value == expected, "\(host.id) usage \(usage)")
            }

            // gc is per host: fleet-b's row goes (plain SQL); fleet-a's gc leaves fleet-b's artifact
            // and file alone and keeps its own disk of the same image; fleet-b's gc removes them.
            let doomedDisk = try await psql(
                "SELECT artifact_path FROM image_status WHERE name = '\(docker)' AND target_host = 'fleet-b'")
            let keptDisk = try await psql(
                "SELECT artifact_path FROM image_status WHERE name = '\(docker)' AND target_host = 'fleet-a'")
            try await psql("DELETE FROM images WHERE name = '\(docker)' AND target_host = 'fleet-b'")
            func gc(_ host: Host) async throws {
                try await Child.run(
                    Child.imageWorker, ["gc", "--grace", "0", "--db", url, "--data-dir", host.data.path, "--host-id", host.id],
                    in: directory)
            }
            try await gc(hosts[0])
            #expect(FileManager.default.fileExists(atPath: doomedDisk) && FileManager.default.fileExists(atPath: keptDisk))
            #expect(try await psql("SELECT count(*) FROM artifacts WHERE path = '\(doomedDisk)' AND host = 'fleet-b'") == "1")
            try await gc(hosts[1])
            #expect(!FileManager.default.fileExists(atPath: doomedDisk), "fleet-b collected its own disk")
            #expect(FileManager.default.fileExists(atPath: keptDisk))
            #expect(try await psql("SELECT count(*) FROM artifacts WHERE path = '\(doomedDisk)'") == "0")
        }

        /// `key=value` of a swift-log stream line.
        static func metadata(_ line: Substring, _ key: String) -> String? {
            guard let range = line.range(of: " \(key)=") else { return nil }
            return line[range.upperBound...].split(separator: " ").first.map(String.init)
        }

        /// Rows of `sql` as dictionaries via psql's `json_agg`; NULL columns are absent.
        func query(_ cluster: TestPostgres, _ url: String, _ sql: String) async throws -> [[String: String]] {
            let output = try await cluster.psql(url, "SELECT coalesce(json_agg(r), '[]') FROM (\(sql)) AS r")
            let objects = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
            return objects.map { object in object.compactMapValues { value in value is NSNull ? nil : "\(value)" } }
        }
    }
}
