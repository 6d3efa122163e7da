import Foundation
import ImageStore
import Testing

/// Operator slips and signals: numeric options out of range and a directory as `-o` are usage
/// errors, `recover` cleans up what the docs say, SIGTERM is a quiet exit 0.
@Suite final class OperatorSlipTests: Sendable {
    let directory: URL
    let data: URL
    let database: String

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("operator-slips-\(UUID().uuidString)")
        data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        database = data.appendingPathComponent("image-worker.db").path
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func sqlite(_ sql: String) async throws -> String {
        try await Child.run("/usr/bin/sqlite3", ["-cmd", ".timeout 10000", database, sql], in: directory)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(
        "numeric options out of range are refused with exit 64, naming the option, before anything changes",
        arguments: [
            ["worker", "--max-in-flight", "0"], ["worker", "--max-in-flight=-3"],
            ["worker", "--max-in-flight", "1000001"], ["worker", "--concurrency", "0"],
            ["worker", "--concurrency", "100000"], ["worker", "--shutdown-timeout=-1"],
            ["worker", "--poll-interval-ms", "5"], ["worker", "--erofs-level", "13"],
            ["gc", "--grace=-1"], ["gc", "--grace", "9223372036854775807"],
            ["pull", "alpine", "--timeout=-5"], ["bench-queue", "--processes", "0"],
            ["bench-queue", "--jobs", "0"],
        ])
    func numericOptionsValidated(arguments: [String]) async throws {
        try await Child.run(Child.imageWorker, ["migrate", "--data-dir", data.path], in: directory)
        let child = try Child(Child.imageWorker, arguments + ["--data-dir", data.path], in: directory)
        #expect(try await child.wait() == 64, "stderr: \(child.stderr)")
        let option = try #require(arguments.first { $0.hasPrefix("--") }?.split(separator: "=").first)
        #expect(child.stderr.contains("\(option) must be"), "stderr: \(child.stderr)")
        #expect(try await sqlite("SELECT value FROM settings WHERE key = 'max_in_flight'") == "4")
    }

    @Test("export and export-tree refuse a directory as -o with exit 64 before any download or walk", arguments: ["export", "export-tree"])
    func outputDirectoryRefused(command: String) async throws {
        let output = directory.appendingPathComponent("a-directory")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        // Port 9 (discard) on loopback: nothing answers there, so a download would fail differently.
        let source = command == "export" ? "127.0.0.1:9/nothing/here:v1" : directory.path
        let child = try Child(
            Child.imageWorker, [command, source, "--format", "ext4", "-o", output.path, "--data-dir", data.path],
            in: directory)
        #expect(try await child.wait() == 64, "stderr: \(child.stderr)")
        #expect(child.stderr.contains("is a directory"), "stderr: \(child.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty)
    }

    @Test("recover requeues a dead worker's row, drops its unfinished conversion and removes its scratch")
    func recoverDoesWhatTheDocsSay() async throws {
        try await Child.run(Child.imageWorker, ["migrate", "--data-dir", data.path], in: directory)
        _ = try await sqlite(
            """
            INSERT INTO images (name, status, worker_id, lease_expires_at, lease_token, attempts)
            VALUES ('127.0.0.1:1/dead:1', 'converting', 'dead:1:1', 1, 1, 1);
            INSERT INTO artifacts (manifest_digest, format, state, path, builder_image_id, builder_token, conversions)
            VALUES ('sha256:\(String(repeating: "c", count: 64))', 'ext4', 'building', '/nowhere.ext4', 1, 1, 1);
            """)
        let scratch = data.appendingPathComponent("tmp/build-1-1/rootfs/etc")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: scratch.appendingPathComponent("passwd"))

        let output = try await Child.run(
            Child.imageWorker, ["recover", "--json", "--data-dir", data.path], in: directory)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(report["conversions_dropped"] as? Int == 1, "\(output)")
        #expect(report["scratch_removed"] as? Int == 1, "\(output)")
        let rows = try #require(report["rows"] as? [[String: Any]])
        #expect(rows.first?["outcome"] as? String == "requeued")
        #expect(try await sqlite("SELECT status FROM images") == "pending")
        #expect(try await sqlite("SELECT count(*) FROM artifacts") == "0")
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("tmp/build-1-1").path))
    }

    @Test("SIGTERM stops an --exit-when-idle worker quietly with status 0")
    func sigtermIsQuiet() async throws {
        try await Child.run(Child.imageWorker, ["migrate", "--data-dir", data.path], in: directory)
        // Nothing listens on port 1: the row keeps failing transiently and stays pending.
        _ = try await sqlite("INSERT INTO images (name) VALUES ('127.0.0.1:1/nothing:1')")
        let worker = try Child(
            Child.imageWorker, ["worker", "--exit-when-idle", "--data-dir", data.path], in: directory)
        try await Child.waitUntil("the first attempt to be recorded") {
            (Int(try await sqlite("SELECT attempts FROM images")) ?? 0) >= 1 && worker.stderr.contains("build finished")
        }
        kill(worker.process.processIdentifier, SIGTERM)
        #expect(try await worker.wait() == 0, "stderr: \(worker.stderr.suffix(2000))")
        #expect(!worker.stderr.contains("CancellationError"), "stderr: \(worker.stderr.suffix(2000))")
        #expect(!worker.stderr.contains("Error:"), "stderr: \(worker.stderr.suffix(2000))")
    }
}
