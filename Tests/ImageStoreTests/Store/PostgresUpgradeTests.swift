import Migrations
import TestSupport
import Testing

@testable import ImageStore

/// The PostgreSQL history applied step by step onto a database with rows in it.
@Suite struct PostgresUpgradeTests {
    @Test("0002-verity keeps rows and their disks: rows with a disk get verity 0, new rows 1, artifacts 0")
    func verityStep() async throws {
        let cluster = try await SharedPostgres.shared.cluster()
        let url = try await cluster.createDatabase(prefix: "upgrade")
        let first = try #require(Migrations.postgres.first)
        let connection = try await PostgresConnection.open(url: url)
        #expect(try await PostgresMigrator(migrations: [first]).migrate(connection) == [first.identifier])
        try await cluster.psql(
            url,
            """
            INSERT INTO artifacts (manifest_digest, format, state, path) VALUES ('sha256:a', 'ext4', 'ready', '/d/a.ext4');
            INSERT INTO images (name, status, artifact_id) VALUES ('built', 'ready', 1);
            INSERT INTO images (name) VALUES ('waiting');
            """)
        #expect(try await PostgresMigrator().migrate(connection) == Array(Migrations.postgres.dropFirst().map(\.identifier)))
        #expect(try await cluster.psql(url, "SELECT name || '=' || verity FROM images ORDER BY id") == "built=0\nwaiting=1")
        #expect(try await cluster.psql(url, "SELECT verity || ' ' || path FROM artifacts") == "0 /d/a.ext4")
        #expect(try await cluster.psql(url, "SELECT artifact_path FROM image_status WHERE name = 'built'") == "/d/a.ext4")
    }
}
