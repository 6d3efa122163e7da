import Foundation
import ImageStore
import Migrations
import TestSupport
import Testing

/// The PostgreSQL history against schema-postgres.sql, on a throwaway cluster.
@Suite final class PostgresMigrationsTests: Sendable {
    /// schema-postgres.sql at the repository root.
    static var schemaFile: URL {
        MigrationsTests.schemaFile.deletingLastPathComponent().appendingPathComponent("schema-postgres.sql")
    }

    /// `pg_dump --schema-only` without comments, blank lines and the dump's random
    /// `\restrict` key: what the database holds, in pg_dump's stable order.
    static func normalizedSchema(_ cluster: TestPostgres, _ url: String) async throws -> [String] {
        try await cluster.schemaDump(url).split(separator: "\n").map(String.init).filter { line in
            !line.hasPrefix("--") && !line.hasPrefix("\\restrict") && !line.hasPrefix("\\unrestrict")
                && !line.trimmingCharacters(in: .whitespaces).isEmpty
        }
    }

    @Test("migrating an empty PostgreSQL database yields exactly schema-postgres.sql")
    func schemaMatchesContract() async throws {
        let cluster = try await SharedPostgres.shared.cluster()
        let migrated = try await cluster.createDatabase()
        let reference = try await cluster.createDatabase()
        #expect(try await ImageQueue.migrate(path: migrated) == Migrations.postgres.map(\.identifier))
        try await cluster.psqlFile(reference, Self.schemaFile.path)
        let expected = try await Self.normalizedSchema(cluster, reference)
        #expect(expected.contains { $0.hasPrefix("CREATE VIEW public.image_status") })
        #expect(expected.contains { $0.hasPrefix("CREATE TRIGGER images_released_notify") })
        #expect(try await Self.normalizedSchema(cluster, migrated) == expected)
        let settings = "SELECT key || '=' || value FROM settings ORDER BY key"
        #expect(try await cluster.psql(migrated, settings) == cluster.psql(reference, settings))
        #expect(try await cluster.psql(migrated, settings) == "lease_ms=60000\nmax_attempts=5\nmax_in_flight=4")
    }

    @Test("migration identifiers of the PostgreSQL history are unique")
    func uniqueIdentifiers() {
        let identifiers = Migrations.postgres.map(\.identifier)
        #expect(Set(identifiers).count == identifiers.count)
    }

    @Test("migrating twice applies nothing the second time")
    func idempotent() async throws {
        let cluster = try await SharedPostgres.shared.cluster()
        let url = try await cluster.createDatabase()
        #expect(try await ImageQueue.migrate(path: url) == Migrations.postgres.map(\.identifier))
        #expect(try await ImageQueue.migrate(path: url) == [])
        let applied = try await cluster.psql(url, "SELECT identifier FROM schema_migrations ORDER BY identifier")
        #expect(applied == Migrations.postgres.map(\.identifier).joined(separator: "\n"))
    }

    @Test("processes migrating at once take turns under the advisory lock: each step applied once")
    func concurrentMigrations() async throws {
        let cluster = try await SharedPostgres.shared.cluster()
        let url = try await cluster.createDatabase()
        let results = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<6 { group.addTask { try await ImageQueue.migrate(path: url) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { !$0.isEmpty } == [Migrations.postgres.map(\.identifier)])
        #expect(try await cluster.psql(url, "SELECT count(*) FROM schema_migrations") == "\(Migrations.postgres.count)")
    }

    @Test("a PostgreSQL database listing an unknown migration is refused, naming it")
    func unknownIdentifierRefused() async throws {
        let cluster = try await SharedPostgres.shared.cluster()
        let url = try await cluster.createDatabase()
        _ = try await ImageQueue.migrate(path: url)
        try await cluster.psql(url, "INSERT INTO schema_migrations (identifier) VALUES ('9999-from-the-future')")
        await #expect(throws: MigrationError.unknownMigration(identifier: "9999-from-the-future", path: url)) {
            _ = try await ImageQueue.migrate(path: url)
        }
    }

    @Test("a server that is not there is a transient connect error naming the URL without its password")
    func unreachableServer() async throws {
        // Port 1 (tcpmux): nothing listens there on a test machine.
        let url = "postgres://someone:secret@127.0.0.1:1/none"
        do {
            _ = try await ImageQueue.migrate(path: url)
            Issue.record("connected to \(url)")
        } catch let error as StoreError {
            guard case .connect(let shown, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(shown == "postgres://someone:***@127.0.0.1:1/none")
            #expect(!error.description.contains("secret"))
            #expect(error.kind.isTransient)
        }
    }
}
