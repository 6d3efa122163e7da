import Foundation
import ImageStore
import Migrations
import Testing

@Suite final class MigrationsTests: Sendable {
    let directory: URL

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("migrations-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// schema.sql at the repository root.
    static var schemaFile: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schema.sql")
    }

    /// The sqlite_schema of `database` with `--` comments stripped and whitespace collapsed.
    static func normalizedSchema(_ database: String) async throws -> [String] {
        let rows = try await Tool.sqliteJSON(
            database, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
        return rows.map { row in
            let sql = (row["sql"] as? String ?? "").split(separator: "\n", omittingEmptySubsequences: false)
                .map { line in line.range(of: "--").map { String(line[..<$0.lowerBound]) } ?? String(line) }
                .joined(separator: " ")
                .split(whereSeparator: \.isWhitespace).joined(separator: " ")
            return "\(row["type"] ?? "") \(row["name"] ?? "") \(row["tbl_name"] ?? ""): \(sql)"
        }
    }

    @Test("migrating an empty database yields exactly schema.sql")
    func schemaMatchesContract() async throws {
        let migrated = directory.appendingPathComponent("migrated.db").path
        let reference = directory.appendingPathComponent("reference.db").path
        _ = try await ImageQueue.migrate(path: migrated)
        _ = try await Tool.run("/usr/bin/sqlite3", [reference, ".read \(Self.schemaFile.path)"])
        let expected = try await Self.normalizedSchema(reference)
        #expect(expected.count > 5)
        #expect(try await Self.normalizedSchema(migrated) == expected)
        let settings = "SELECT key, value FROM settings ORDER BY key"
        #expect(
            try await Tool.run("/usr/bin/sqlite3", [migrated, settings])
                == Tool.run("/usr/bin/sqlite3", [reference, settings]))
    }

    @Test("migration identifiers are unique")
    func uniqueIdentifiers() {
        let identifiers = Migrations.all.map(\.identifier)
        #expect(Set(identifiers).count == identifiers.count)
    }

    @Test("migrating twice applies nothing the second time and user_version counts the steps")
    func idempotent() async throws {
        let database = directory.appendingPathComponent("twice.db").path
        #expect(try await ImageQueue.migrate(path: database) == Migrations.all.map(\.identifier))
        #expect(try await ImageQueue.migrate(path: database) == [])
        let version = try await Tool.run("/usr/bin/sqlite3", [database, "PRAGMA user_version"])
        #expect(version.trimmingCharacters(in: .whitespacesAndNewlines) == String(Migrations.all.count))
        let applied = try await Tool.sqliteJSON(database, "SELECT identifier FROM schema_migrations")
        #expect(applied.compactMap { $0["identifier"] as? String } == Migrations.all.map(\.identifier))
    }

    @Test("a database listing an unknown migration is refused, naming it")
    func unknownIdentifierRefused() async throws {
        let database = directory.appendingPathComponent("newer.db").path
        _ = try await ImageQueue.migrate(path: database)
        _ = try await Tool.run(
            "/usr/bin/sqlite3",
            [database, "INSERT INTO schema_migrations (identifier) VALUES ('9999-from-the-future')"])
        await #expect(throws: MigrationError.unknownMigration(identifier: "9999-from-the-future", path: database)) {
            _ = try await ImageQueue.migrate(path: database)
        }
        await #expect(throws: MigrationError.unknownMigration(identifier: "9999-from-the-future", path: database)) {
            _ = try await ImageQueue.open(path: database)
        }
    }

    @Test("0003-typed-checks settles rows the new checks would refuse instead of losing them")
    func typedChecksSettleOldRows() async throws {
        let database = directory.appendingPathComponent("old.db").path
        let first = try #require(Migrations.all.first)
        _ = try await Tool.run(
            "/usr/bin/sqlite3",
            [
                database,
                """
                CREATE TABLE schema_migrations (identifier TEXT PRIMARY KEY,
                    applied_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
                ) WITHOUT ROWID;
                \(first.sql);
                INSERT INTO schema_migrations (identifier) VALUES ('\(first.identifier)');
                PRAGMA user_version = 1;
                INSERT INTO images (name, priority) VALUES ('high', 'high'), ('fraction', 1.5);
                INSERT INTO images (name, attempts, lease_token) VALUES ('huge', 9223372036854775807, 9223372036854775807);
                INSERT INTO images (name, status) VALUES ('leaseless', 'pulling');
                INSERT INTO images (name, status, artifact_id) VALUES ('dangling', 'ready', 77);
                INSERT INTO images (name) VALUES ('deleted-last');
                DELETE FROM images WHERE name = 'deleted-last';
                UPDATE settings SET value = 'abc' WHERE key = 'lease_ms';
                DELETE FROM settings WHERE key = 'max_attempts';
                """,
            ])
        _ = try await ImageQueue.migrate(path: database)
        let rows = try await Tool.sqliteJSON(
            database, "SELECT name, priority, status, attempts, lease_token, error, artifact_id FROM images ORDER BY id")
        #expect(rows.map { $0["name"] as? String } == ["high", "fraction", "huge", "leaseless", "dangling"])
        #expect(rows.map { $0["status"] as? String } == ["failed", "failed", "failed", "pending", "ready"])
        #expect((rows[0]["error"] as? String)?.contains("priority 'high' is not an integer") == true, "\(rows[0])")
        #expect((rows[2]["error"] as? String)?.contains("attempts 9223372036854775807") == true, "\(rows[2])")
        #expect(rows[2]["attempts"] as? Int == 0 && rows[2]["lease_token"] as? Int == 0)
        #expect(rows[4]["artifact_id"] is NSNull)
        let settings = try await Tool.run("/usr/bin/sqlite3", [database, "SELECT key || '=' || value FROM settings ORDER BY key"])
        #expect(settings == "lease_ms=60000\nmax_attempts=5\nmax_in_flight=4\n")
        // Ids are never reused: the next row gets 7, after the deleted 6.
        _ = try await Tool.run("/usr/bin/sqlite3", [database, "INSERT INTO images (name) VALUES ('next')"])
        #expect(try await Tool.run("/usr/bin/sqlite3", [database, "SELECT max(id) FROM images"]) == "7\n")
    }
}
