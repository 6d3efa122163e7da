import Foundation
import ImageStore
import TestSupport
import Testing

extension EndToEnd {
    /// The queue against what other services and operators do to it: odd INSERTs with the
    /// sqlite3 CLI and with psql, a full data disk, a lease shortened while builds run.
    @Suite("Queue hardening") struct QueueHardening {
        /// One hand-written statement and what must become of it.
        struct OddStatement: Sendable, CustomStringConvertible {
            enum Expectation: Sendable {
                /// The statement fails; sqlite3's error names this constraint or column.
                case refused(String)
                /// The row is accepted and ends `failed` with an error containing this text.
                case failed(String)
            }

            let sql: String
            let expectation: Expectation

            var description: String { sql }
        }

        /// `REF` stands for a name the registry serves, so only the odd column can make a row fail.
        static let oddStatements: [OddStatement] = [
            .init(sql: "INSERT INTO images (name, status) VALUES ('REF', 'pulling')",
                  expectation: .refused("worker_id_and_lease_expires_at_iff_in_flight")),
            .init(sql: "INSERT INTO images (name, status, lease_expires_at) VALUES ('REF', 'converting', 99999999999999)",
                  expectation: .refused("worker_id_and_lease_expires_at_iff_in_flight")),
            .init(sql: "INSERT INTO images (name, worker_id, lease_expires_at) VALUES ('REF', 'someone:1:1', 1)",
                  expectation: .refused("worker_id_and_lease_expires_at_iff_in_flight")),
            .init(sql: "INSERT INTO images (name, attempts) VALUES ('REF', 9223372036854775807)",
                  expectation: .refused("attempts_in_range")),
            .init(sql: "INSERT INTO images (name, attempts) VALUES ('REF', -1)", expectation: .refused("attempts_in_range")),
            .init(sql: "INSERT INTO images (name, lease_token) VALUES ('REF', 9223372036854775807)",
                  expectation: .refused("lease_token_in_range")),
            .init(sql: "INSERT INTO images (name, priority) VALUES ('REF', 'high')",
                  expectation: .refused("priority_is_integer")),
            .init(sql: "INSERT INTO images (name, priority) VALUES ('REF', 1.5)", expectation: .refused("priority_is_integer")),
            .init(sql: "INSERT INTO images (name, priority) VALUES ('REF', NULL)",
                  expectation: .refused("NOT NULL constraint failed: images.priority")),
            .init(sql: "INSERT INTO images (name) VALUES (NULL)", expectation: .refused("NOT NULL constraint failed: images.name")),
            .init(sql: "INSERT INTO images (name) VALUES (X'00ff')", expectation: .refused("name_is_text")),
            .init(sql: "INSERT INTO images (name, format) VALUES ('REF', 'zip')", expectation: .refused("format IN")),
            .init(sql: "INSERT INTO images (name, status) VALUES ('REF', 'done')", expectation: .refused("status IN")),
            .init(sql: "INSERT INTO images (name, next_attempt_at) VALUES ('REF', 'soon')",
                  expectation: .refused("next_attempt_at_is_integer")),
            .init(sql: "INSERT INTO images (name, error_kind) VALUES ('REF', 'maybe')", expectation: .refused("error_kind IN")),
            .init(sql: "INSERT INTO images (name, status) VALUES ('REF', 'failed')", expectation: .refused("failed_has_error")),
            .init(sql: "INSERT INTO images (name, bytes_done) VALUES ('REF', 'lots')",
                  expectation: .refused("bytes_done_is_integer")),
            .init(sql: "INSERT INTO images (name, created_at) VALUES ('REF', 'yesterday')",
                  expectation: .refused("created_at_is_integer")),
            .init(sql: "UPDATE settings SET value = 'abc' WHERE key = 'lease_ms'",
                  expectation: .refused("value_in_range_for_key")),
            .init(sql: "INSERT OR REPLACE INTO settings (key, value) VALUES ('max_in_flight', -1)",
                  expectation: .refused("value_in_range_for_key")),
            .init(sql: "INSERT INTO images (name, attempts) VALUES ('REF', 1000000)",
                  expectation: .failed("cannot be claimed: CHECK constraint failed: attempts_in_range")),
            .init(sql: "INSERT INTO images (name, lease_token) VALUES ('REF', 1000000000000000000)",
                  expectation: .failed("cannot be claimed: CHECK constraint failed: lease_token_in_range")),
            .init(
                sql: """
                    INSERT INTO images (name, status, worker_id, lease_expires_at, attempts)
                    VALUES ('REF', 'pulling', 'ghost:1:1', 1, 5)
                    """,
                expectation: .failed("worker ghost:1:1 stopped heartbeating during pulling (attempt 5 of 5)")),
            .init(
                sql: """
                    INSERT INTO images (name, status, worker_id, lease_expires_at, attempts)
                    VALUES ('REF', 'converting', 'ghost:2:1', 9000000000000000000, 5)
                    """,
                expectation: .failed("worker ghost:2:1 holds no valid lease during converting (attempt 5 of 5)")),
        ]

        @Test("odd INSERTs with the sqlite3 CLI: each is refused naming its column, or ends failed; normal rows all end ready")
        func oddInsertsNeverStallTheQueue() async throws {
            let sandbox = try await WorkerSandbox.make("odd-inserts")
            let reference = try await PushedImages.shared.reference("multilayer")
            var accepted: [(id: String, text: String)] = []
            for statement in Self.oddStatements {
                var sql = statement.sql.replacingOccurrences(of: "REF", with: reference)
                if sql.hasPrefix("INSERT INTO images") { sql += " RETURNING id" }
                let child = try Child(
                    "/usr/bin/sqlite3", ["-cmd", ".timeout 10000", sandbox.database, sql], in: sandbox.directory)
                let status = try await child.wait()
                switch statement.expectation {
                case .refused(let constraint):
                    #expect(status != 0, "accepted: \(sql)")
                    #expect(child.stderr.contains(constraint), "\(sql): \(child.stderr)")
                case .failed(let text):
                    #expect(status == 0, "\(sql): \(child.stderr)")
                    accepted.append((child.stdout.trimmingCharacters(in: .whitespacesAndNewlines), text))
                }
            }
            // Settings rows deleted by hand: every worker falls back to the defaults.
            try await sandbox.sqlite("DELETE FROM settings")
            let multiarch = try await PushedImages.shared.reference("multiarch")
            try await sandbox.insert([(reference, .ext4), (reference, .cpio), (multiarch, .erofs)])

            try await sandbox.drain()

            for (id, text) in accepted {
                let row = try #require(try await sandbox.rows("SELECT status, error FROM images WHERE id = \(id)").first)
                #expect(row["status"] == "failed", "row \(id): \(row)")
                #expect(row["error"]?.contains(text) == true, "row \(id): \(row)")
            }
            let normal = try await sandbox.rows("SELECT id, status, error FROM images ORDER BY id DESC LIMIT 3")
            #expect(normal.map { $0["status"] } == ["ready", "ready", "ready"], "\(normal)")
            let listed = try await sandbox.imageWorker(["list", "--json"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]])
            #expect(rows.count == accepted.count + 3)
            #expect(sandbox.leftovers().isEmpty, "\(sandbox.leftovers())")
        }

        /// The same kinds of odd rows for PostgreSQL, written with psql: its column types refuse
        /// what SQLite needs typed CHECKs for, so some messages are PostgreSQL's own.
        static let oddPostgresStatements: [OddStatement] = [
            .init(sql: "INSERT INTO images (name, status) VALUES ('REF', 'pulling')",
                  expectation: .refused("worker_id_and_lease_expires_at_iff_in_flight")),
            .init(sql: "INSERT INTO images (name, worker_id, lease_expires_at) VALUES ('REF', 'someone:1:1', 1)",
                  expectation: .refused("worker_id_and_lease_expires_at_iff_in_flight")),
            .init(sql: "INSERT INTO images (name, attempts) VALUES ('REF', 9223372036854775807)",
                  expectation: .refused("attempts_in_range")),
            .init(sql: "INSERT INTO images (name, attempts) VALUES ('REF', -1)", expectation: .refused("attempts_in_range")),
            .init(sql: "INSERT INTO images (name, lease_token) VALUES ('REF', 9223372036854775807)",
                  expectation: .refused("lease_token_in_range")),
            .init(sql: "INSERT INTO images (name, priority) VALUES ('REF', 'high')",
                  expectation: .refused("invalid input syntax for type bigint")),
            .init(sql: "INSERT INTO images (name) VALUES (NULL)", expectation: .refused("null value in column \"name\"")),
            .init(sql: "INSERT INTO images (name, format) VALUES ('REF', 'zip')", expectation: .refused("images_format_check")),
            .init(sql: "INSERT INTO images (name, status) VALUES ('REF', 'done')", expectation: .refused("images_status_check")),
            .init(sql: "INSERT INTO images (name, error_kind) VALUES ('REF', 'maybe')",
                  expectation: .refused("images_error_kind_check")),
            .init(sql: "INSERT INTO images (name, status) VALUES ('REF', 'failed')", expectation: .refused("failed_has_error")),
            .init(sql: "INSERT INTO images (name, target_host) VALUES ('REF', '')", expectation: .refused("target_host_is_host_id")),
            .init(sql: "INSERT INTO images (name, verity) VALUES ('REF', 2)", expectation: .refused("verity_is_boolean")),
            .init(sql: "UPDATE settings SET value = -1 WHERE key = 'max_in_flight'", expectation: .refused("value_in_range_for_key")),
            .init(sql: "INSERT INTO images (name, attempts) VALUES ('REF', 1000000)", expectation: .failed("cannot be claimed")),
            .init(sql: "INSERT INTO images (name, lease_token) VALUES ('REF', 1000000000000000000)",
                  expectation: .failed("cannot be claimed")),
            .init(
                sql: """
                    INSERT INTO images (name, status, worker_id, lease_expires_at, attempts)
                    VALUES ('REF', 'pulling', 'ghost:1:1', 1, 5)
                    """,
                expectation: .failed("worker ghost:1:1 stopped heartbeating during pulling (attempt 5 of 5)")),
        ]

        @Test("odd INSERTs with psql on PostgreSQL: each is refused naming its constraint or type, or ends failed; normal rows all end ready")
        func oddPostgresInsertsNeverStallTheQueue() async throws {
            let sandbox = try await WorkerSandbox.make("odd-inserts-pg", backend: .postgres)
            let reference = try await PushedImages.shared.reference("multilayer")
            var accepted: [(id: String, text: String)] = []
            for statement in Self.oddPostgresStatements {
                var sql = statement.sql.replacingOccurrences(of: "REF", with: reference)
                if sql.hasPrefix("INSERT INTO images") { sql += " RETURNING id" }
                let outcome: Result<String, any Error>
                do { outcome = .success(try await sandbox.sqlite(sql)) } catch { outcome = .failure(error) }
                switch (statement.expectation, outcome) {
                case (.refused(let text), .failure(let error)):
                    #expect("\(error)".contains(text), "\(sql): \(error)")
                case (.refused, .success):
                    Issue.record("accepted: \(sql)")
                case (.failed(let text), .success(let id)):
                    accepted.append((id, text))
                case (.failed, .failure(let error)):
                    Issue.record("\(sql): \(error)")
                }
            }
            try await sandbox.sqlite("DELETE FROM settings")
            let multiarch = try await PushedImages.shared.reference("multiarch")
            try await sandbox.insert([(reference, .ext4), (reference, .cpio), (multiarch, .erofs)])

            try await sandbox.drain()

            for (id, text) in accepted {
                let row = try #require(try await sandbox.rows("SELECT status, error FROM images WHERE id = \(id)").first)
                #expect(row["status"] == "failed", "row \(id): \(row)")
                #expect(row["error"]?.contains(text) == true, "row \(id): \(row)")
            }
            let normal = try await sandbox.rows("SELECT id, status, error FROM images ORDER BY id DESC LIMIT 3")
            #expect(normal.map { $0["status"] } == ["ready", "ready", "ready"], "\(normal)")
            #expect(sandbox.leftovers().isEmpty, "\(sandbox.leftovers())")
        }

        @Test("data disk full mid-build: the scratch is freed, the row records the real reason, not \"stopped heartbeating\"")
        func diskFull() async throws {
            let sandbox = try await WorkerSandbox.make("disk-full")
            // The 200 MiB incompressible layer fits on a 300 MiB filesystem, its tree beside it does not.
            try await ProcessRunner.check("mount", ["-t", "tmpfs", "-o", "size=300m,mode=0700", "tmpfs", sandbox.data.path])
            do {
                try await sandbox.imageWorker(["migrate"])
                try await sandbox.setSetting(.maxAttempts, 1)
                let layout = try await FixtureImages.layout("large")
                try await FaultServer.with(layout: layout) { server in
                    try await sandbox.insert([(server.reference(repository: "e2e/too-large"), .ext4)])
                    try await sandbox.drain(seconds: 180)
                }
                let row = try #require(try await sandbox.rows("SELECT status, error, error_kind FROM images").first)
                #expect(row["status"] == "failed", "\(row)")
                #expect(row["error"]?.lowercased().contains("no space left on device") == true, "\(row)")
                #expect(row["error"]?.contains("heartbeating") == false, "\(row)")
                #expect(row["error_kind"] == "transient", "\(row)")
                #expect(sandbox.leftovers().isEmpty, "\(sandbox.leftovers())")
            } catch {
                _ = try? await ProcessRunner.run("umount", [sandbox.data.path])
                throw error
            }
            try await ProcessRunner.check("umount", [sandbox.data.path])
        }

        @Test("lease_ms lowered while a build runs: its heartbeats speed up and recovery never takes the row")
        func leaseLoweredAtRuntime() async throws {
            let sandbox = try await WorkerSandbox.make("lease-lowered")
            try await sandbox.setSetting(.leaseMilliseconds, 6_000)
            let layout = try await FixtureImages.layout("multilayer")
            // About 8 s for the 4 MiB layer.
            try await FaultServer.with(layout: layout, faults: [.slow(bytesPerSecond: 500_000, path: "/blobs/")]) { server in
                try await sandbox.insert([(server.reference(repository: "e2e/lease"), .ext4)])
                let worker = try sandbox.startWorker(["--exit-when-idle"])
                try await Child.waitUntil("bytes downloaded while pulling") {
                    let row = try await sandbox.rows("SELECT status, bytes_done FROM images WHERE id = 1").first
                    return row?["status"] == "pulling" && (Int(row?["bytes_done"] ?? "") ?? 0) > 0
                }
                try await sandbox.setSetting(.leaseMilliseconds, 1_000)
                // The old code heartbeat every 2 s (a third of 6 s) with 1 s leases: expired half the time.
                var reports: [String] = []
                let until = Date().addingTimeInterval(5)
                while Date() < until, try await sandbox.sqlite("SELECT status FROM images WHERE id = 1") != "ready" {
                    reports.append(try await sandbox.imageWorker(["recover", "--json"]))
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(try await worker.wait(seconds: 90) == 0, "stderr: \(worker.stderr.suffix(2000))")
                for report in reports {
                    #expect(!report.contains("\"outcome\""), "recovery took a live row: \(report)")
                }
                // Several recovery passes across more than two 1 s leases (few on a loaded machine).
                #expect(reports.count >= 3, "\(reports.count) recovery passes")
                let row = try #require(try await sandbox.rows("SELECT status, attempts FROM images").first)
                #expect(row["status"] == "ready" && row["attempts"] == "1", "\(row)")
            }
        }
    }
}
