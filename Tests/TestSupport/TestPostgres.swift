import Foundation

/// A throwaway PostgreSQL 15 cluster (Debian's postgresql-15) on a free 127.0.0.1 port, in a
/// temporary directory, started by Tests/Fixtures/postgres.py as the unprivileged `postgres`
/// user and stopped (the directory removed) by ``stop()`` or when this process exits.
///
/// ```swift
/// let cluster = try await SharedPostgres.shared.cluster()
/// let url = try await cluster.createDatabase()      // a fresh, empty database per test
/// try await cluster.psql(url, "INSERT INTO images(name) VALUES ('alpine')")
/// ```
public final class TestPostgres: Sendable {
    private struct Info: Decodable {
        let url: String
        let port: Int
        let bin: String
    }

    /// `postgres://postgres@127.0.0.1:PORT`: the server, without a database name.
    public let serverURL: String
    /// The server's port on 127.0.0.1.
    public let port: Int
    /// The directory of initdb, pg_ctl, pg_dump and psql.
    public let bin: String
    private let helper: BackgroundHelper

    private init(info: Info, helper: BackgroundHelper) {
        self.serverURL = info.url
        self.port = info.port
        self.bin = info.bin
        self.helper = helper
    }

    /// Starts a cluster and returns once it accepts connections.
    public static func start() async throws -> TestPostgres {
        let (helper, info) = try await BackgroundHelper.launch(script: "postgres.py", as: Info.self) {
            ["--dir", $0.appendingPathComponent("cluster").path]
        }
        return TestPostgres(info: info, helper: helper)
    }

    /// Stops the server (pg_ctl stop -m fast) and removes its directory.
    public func stop() async {
        await helper.stop()
    }

    /// Creates an empty database with a fresh name.
    /// - Returns: its URL, `postgres://postgres@127.0.0.1:PORT/NAME`.
    public func createDatabase(prefix: String = "t") async throws -> String {
        let name = "\(prefix)_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        try await psql("\(serverURL)/postgres", "CREATE DATABASE \(name)")
        return "\(serverURL)/\(name)"
    }

    /// Runs `sql` with `psql` (unaligned, tuples only, stopping at the first error).
    /// - Returns: psql's standard output, trailing newline removed.
    /// - Throws: `TestSupportError.commandFailed` with psql's stderr.
    @discardableResult
    public func psql(_ url: String, _ sql: String) async throws -> String {
        try await ProcessRunner.check(
            "\(bin)/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]
        ).output
    }

    /// Runs the SQL file at `path` with `psql -f`.
    public func psqlFile(_ url: String, _ path: String) async throws {
        try await ProcessRunner.check("\(bin)/psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", path])
    }

    /// `pg_dump --schema-only` of the database at `url`.
    public func schemaDump(_ url: String) async throws -> String {
        try await ProcessRunner.check(
            "\(bin)/pg_dump", ["--schema-only", "--no-owner", "--no-privileges", "-d", url]
        ).output
    }
}

/// One cluster for the whole test process, started on first use and shared by every suite
/// (each test makes its own database). It is stopped when this process exits: postgres.py
/// stops the server when its standard input closes.
public actor SharedPostgres {
    public static let shared = SharedPostgres()
    private var starting: Task<TestPostgres, any Error>?

    /// The shared cluster, started if needed.
    public func cluster() async throws -> TestPostgres {
        if let starting { return try await starting.value }
        let task = Task { try await TestPostgres.start() }
        starting = task
        do {
            return try await task.value
        } catch {
            starting = nil
            throw error
        }
    }
}
