import Foundation
import Testing

/// The backends the queue's conformance suite runs on: every queue test takes one as its
/// argument (`@Test(arguments: QueueBackend.allCases)`), so each runs once on a SQLite file and
/// once on a PostgreSQL database of the shared throwaway cluster (Tests/Fixtures/postgres.py),
/// from the same source.
public enum QueueBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    public var testDescription: String { rawValue }

    /// A fresh, empty database: a file under `directory`, or a new database in the cluster.
    public func makeDatabase(in directory: URL) async throws -> QueueTestDatabase {
        switch self {
        case .sqlite:
            let path = directory.appendingPathComponent("queue-\(UUID().uuidString.prefix(8)).db").path
            return QueueTestDatabase(backend: self, location: path, cluster: nil)
        case .postgres:
            let cluster = try await SharedPostgres.shared.cluster()
            return QueueTestDatabase(backend: self, location: try await cluster.createDatabase(prefix: "queue"), cluster: cluster)
        }
    }
}

/// One test's database and the command-line client another service would use on it.
public struct QueueTestDatabase: Sendable {
    public let backend: QueueBackend
    /// The SQLite path or the PostgreSQL URL, as `--db` takes it.
    public let location: String
    /// The cluster holding the database (PostgreSQL only).
    public let cluster: TestPostgres?

    /// Runs `sql` with the sqlite3 CLI or psql, as another service would.
    /// - Returns: the rows, `|`-separated columns, one line each (both clients' default).
    @discardableResult
    public func sql(_ sql: String) async throws -> String {
        if let cluster { return try await cluster.psql(location, sql) }
        let result = try await ProcessRunner.run("/usr/bin/sqlite3", ["-cmd", ".timeout 10000", location, sql])
        guard result.status == 0 else {
            throw TestSupportError.commandFailed(
                command: "sqlite3 \(sql)", status: result.status, stderrTail: String(decoding: result.stderr, as: UTF8.self))
        }
        return result.output
    }
}
