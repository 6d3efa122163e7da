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

    @Test("0003-hosts keeps artifacts as the local host's ('') and lets a second host build the same key")
    func hostsStep() async throws {
        let cluster = try await SharedPostgres.shared.cluster()
        let url = try await cluster.createDatabase(prefix: "upgrade")
        let before = Array(Migrations.postgres.prefix { $0.identifier != "0003-hosts" })
        #expect(before.count == 2)
        let connection = try await PostgresConnection.open(url: url)
        #expect(try await PostgresMigrator(migrations: before).migrate(connection) == before.map(\.identifier))
        try await cluster.psql(
            url,
            """
            INSERT INTO artifacts (manifest_digest, format, verity, state, path) VALUES ('sha256:a', 'ext4', 1, 'ready', '/d/a.ext4');
            INSERT INTO images (name, status, artifact_id) VALUES ('built', 'ready', 1);
            """)
        #expect(try await PostgresMigrator().migrate(connection) == ["0003-hosts", "0004-erofs-layers"])
        #expect(try await cluster.psql(url, "SELECT '[' || host || '] ' || path FROM artifacts") == "[] /d/a.ext4")
        #expect(
            try await cluster.psql(url, "SELECT coalesce(target_host, 'any') || ' [' || artifact_host || ']' FROM image_status")
                == "any []")
        try await cluster.psql(
            url, "INSERT INTO artifacts (host, manifest_digest, format, verity) VALUES ('hv-2', 'sha256:a', 'ext4', 1)")
        await #expect(throws: (any Error).self) {
            try await cluster.psql(
                url, "INSERT INTO artifacts (host, manifest_digest, format, verity) VALUES ('hv-2', 'sha256:a', 'ext4', 1)")
        }
        await #expect(throws: (any Error).self) {
            try await cluster.psql(url, "INSERT INTO images (name, target_host) VALUES ('x', '')")
        }
    }

    @Test("0004-erofs-layers keeps rows and artifacts, adds layers_json NULL, accepts the erofs-layers format only")
    func erofsLayersStep() async throws {
        let cluster = try await SharedPostgres.shared.cluster()
        let url = try await cluster.createDatabase(prefix: "upgrade")
        let before = Array(Migrations.postgres.prefix { $0.identifier != "0004-erofs-layers" })
        #expect(before.count == 3)
        let connection = try await PostgresConnection.open(url: url)
        #expect(try await PostgresMigrator(migrations: before).migrate(connection) == before.map(\.identifier))
        try await cluster.psql(
            url,
            """
            INSERT INTO artifacts (host, manifest_digest, format, verity, state, path) VALUES ('hv-1', 'sha256:a', 'erofs', 1, 'ready', '/d/a.erofs');
            INSERT INTO images (name, format, status, artifact_id, target_host) VALUES ('built', 'erofs', 'ready', 1, 'hv-1');
            """)
        #expect(try await PostgresMigrator().migrate(connection) == ["0004-erofs-layers"])
        #expect(
            try await cluster.psql(url, "SELECT name || ' ' || format || ' ' || artifact_path || ' ' || coalesce(layers, 'none') FROM image_status")
                == "built erofs /d/a.erofs none")
        try await cluster.psql(
            url,
            """
            INSERT INTO images (name, format) VALUES ('layered', 'erofs-layers');
            INSERT INTO artifacts (manifest_digest, format, layers_json) VALUES ('sha256:b', 'erofs-layers', '[]');
            """)
        await #expect(throws: (any Error).self) {
            try await cluster.psql(url, "INSERT INTO images (name, format) VALUES ('x', 'squashfs')")
        }
        await #expect(throws: (any Error).self) {
            try await cluster.psql(url, "INSERT INTO artifacts (manifest_digest, format) VALUES ('sha256:c', 'zip')")
        }
    }
}
