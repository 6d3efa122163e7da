import Foundation
import ImageStore
import Synchronization
import TestSupport
import Testing

/// One data directory driven the way production drives it: rows inserted with the `sqlite3`
/// CLI (or psql, on the PostgreSQL backend), real `image-worker` processes (the built binary,
/// see ``Child/imageWorker``), and the CLI's maintenance commands. Every process it started is
/// SIGKILLed when it goes away.
final class WorkerSandbox: Sendable {
    /// Child logs and mount points (outside the data directory, so file listings stay clean).
    let directory: URL
    /// `--data-dir` of every command.
    let data: URL
    /// `<data>/image-worker.db`, or the PostgreSQL URL of this sandbox's database.
    let database: String
    /// Which database the queue lives in.
    let backend: QueueBackend
    private let cluster: TestPostgres?
    private let children = Mutex<[Child]>([])

    /// Creates the directories and migrates the database with `image-worker migrate`. On
    /// `.postgres` the queue is a fresh database of the shared test cluster, passed to every
    /// command as `--db URL`.
    static func make(_ name: String, backend: QueueBackend = .sqlite) async throws -> WorkerSandbox {
        var cluster: TestPostgres?
        var url: String?
        if backend == .postgres {
            let shared = try await SharedPostgres.shared.cluster()
            cluster = shared
            url = try await shared.createDatabase(prefix: "e2e")
        }
        let sandbox = try WorkerSandbox(name, backend: backend, cluster: cluster, url: url)
        try await sandbox.imageWorker(["migrate"])
        return sandbox
    }

    private init(_ name: String, backend: QueueBackend, cluster: TestPostgres?, url: String?) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("iw-e2e-\(name)-\(UUID().uuidString.prefix(8))")
        data = directory.appendingPathComponent("data")
        database = url ?? data.appendingPathComponent("image-worker.db").path
        self.backend = backend
        self.cluster = cluster
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
    }

    /// `--db URL` on PostgreSQL; nothing on SQLite (the data directory's default file).
    private var databaseArguments: [String] { cluster == nil ? [] : ["--db", database] }

    deinit {
        for child in children.withLock({ $0 }) where child.process.isRunning {
            kill(child.process.processIdentifier, SIGKILL)
            child.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: - Processes

    /// Runs `image-worker ARGS --data-dir DATA` to completion.
    /// - Returns: stdout. - Throws: when it exits non-zero.
    @discardableResult
    func imageWorker(_ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        try await Child.run(
            Child.imageWorker, arguments + ["--data-dir", data.path] + databaseArguments, in: directory,
            environment: environment)
    }

    /// Starts `image-worker worker` (polling every 100 ms, debug logs on stderr), with
    /// `environment` on top of this process's.
    func startWorker(
        _ extra: [String] = [], name: String = "w\(UUID().uuidString.prefix(4))", environment: [String: String] = [:]
    ) throws -> Child {
        let child = try Child(
            Child.imageWorker,
            ["worker", "--data-dir", data.path, "--worker-name", name, "--poll-interval-ms", "100"] + databaseArguments
                + extra,
            in: directory, environment: environment)
        children.withLock { $0.append(child) }
        return child
    }

    /// Runs `count` workers with `--exit-when-idle` and waits until all exited 0.
    func drain(workers count: Int = 1, _ extra: [String] = [], seconds: Double = 90) async throws {
        let workers = try (0..<count).map { _ in try startWorker(["--exit-when-idle"] + extra) }
        for worker in workers {
            let status: Int32
            do {
                status = try await worker.wait(seconds: seconds)
            } catch {
                Issue.record("worker stderr: \(worker.stderr.suffix(3000))")
                throw error
            }
            #expect(status == 0, "worker stderr: \(worker.stderr.suffix(3000))")
        }
    }

    // MARK: - SQL

    /// Runs `sql` with the `sqlite3` CLI (psql on PostgreSQL), as another service would.
    /// - Returns: trimmed output, `|`-separated columns.
    @discardableResult
    func sqlite(_ sql: String) async throws -> String {
        if let cluster { return try await cluster.psql(database, sql) }
        return try await Child.run("/usr/bin/sqlite3", ["-cmd", ".timeout 10000", database, sql], in: directory)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Rows of `sql` as dictionaries (`sqlite3 -json`, psql's `json_agg`), values as text.
    func rows(_ sql: String) async throws -> [[String: String]] {
        let output =
            if let cluster {
                try await cluster.psql(database, "SELECT coalesce(json_agg(r), '[]') FROM (\(sql)) AS r")
            } else {
                try await Child.run(
                    "/usr/bin/sqlite3", ["-json", "-cmd", ".timeout 10000", database, sql], in: directory)
            }
        guard !output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return [] }
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
        return objects.map { $0.mapValues { value in value is NSNull ? "" : "\(value)" } }
    }

    /// Inserts one row per (name, format) with plain SQL.
    func insert(_ rows: [(String, DiskFormat)]) async throws {
        let values = rows.map { "('\($0.0)', '\($0.1.rawValue)')" }.joined(separator: ", ")
        try await sqlite("INSERT INTO images(name, format) VALUES \(values)")
    }

    /// Sets a row of the settings table.
    func setSetting(_ key: SettingKey, _ value: Int) async throws {
        try await sqlite("UPDATE settings SET value = \(value) WHERE key = '\(key.rawValue)'")
    }

    /// Polls until no row is pending or in flight.
    func waitUntilSettled(seconds: Double = 90) async throws {
        try await Child.waitUntil("every row ready or failed", seconds: seconds) {
            try await sqlite("SELECT count(*) FROM images WHERE status NOT IN ('ready', 'failed')") == "0"
        }
    }

    /// Polls until row `id` has `status`.
    func waitForStatus(_ id: Int, _ status: String, seconds: Double = 60) async throws {
        try await Child.waitUntil("row \(id) to be \(status)", seconds: seconds) {
            try await sqlite("SELECT status FROM images WHERE id = \(id)") == status
        }
    }

    // MARK: - Files

    /// Every file and directory under the data directory (relative paths), except the
    /// database files, whose presence depends on SQLite's journal state.
    func dataFiles() -> Set<String> {
        var result = Set<String>()
        let enumerator = FileManager.default.enumerator(atPath: data.path)
        while let path = enumerator?.nextObject() as? String {
            if !path.hasPrefix("image-worker.db") { result.insert(path) }
        }
        return result
    }

    /// Leftovers of interrupted work: anything under `tmp/`, `.tmp-` files under `disks/`.
    func leftovers() -> [String] {
        dataFiles().filter { $0.hasPrefix("tmp/") || ($0.hasPrefix("disks/") && $0.contains(".tmp-")) }.sorted()
    }
}

/// `Child` owns a `Process` that is started once in `init` and afterwards only read,
/// signalled and waited for, which `Process` allows from any thread.
extension Child: @unchecked Sendable {}
