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

    @Test("0004-verity keeps every artifact and the rows' links; built rows get verity 0, waiting rows 1")
    func verityKeepsArtifacts() async throws {
        let database = directory.appendingPathComponent("before-verity.db").path
        let before = Migrations.all.prefix { $0.identifier != "0004-verity" }
        #expect(before.count == 3)
        let inserts = before.map { "\($0.sql);\nINSERT INTO schema_migrations (identifier) VALUES ('\($0.identifier)');" }
        _ = try await Tool.run(
            "/usr/bin/sqlite3",
            [
                database,
                """
                PRAGMA foreign_keys = ON;
                CREATE TABLE schema_migrations (identifier TEXT PRIMARY KEY,
                    applied_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
                ) WITHOUT ROWID;
                \(inserts.joined(separator: "\n"))
                PRAGMA user_version = 3;
                INSERT INTO artifacts (manifest_digest, format, state, path, size_bytes, config_json, conversions)
                VALUES ('sha256:gone', 'ext4', 'ready', '/d/gone.ext4', 1, '{}', 1),
                       ('sha256:aa', 'ext4', 'ready', '/d/aa.ext4', 4096, '{"Cmd":["/bin/sh"]}', 1),
                       ('sha256:aa', 'erofs', 'ready', '/d/aa.erofs', 8192, '{}', 2);
                DELETE FROM artifacts WHERE manifest_digest = 'sha256:gone';
                INSERT INTO images (name, format, status, manifest_digest, artifact_id)
                VALUES ('a', 'ext4', 'ready', 'sha256:aa', 2), ('b', 'erofs', 'ready', 'sha256:aa', 3);
                INSERT INTO images (name) VALUES ('waiting');
                """,
            ])
        #expect(try await ImageQueue.migrate(path: database) == Migrations.all.dropFirst(3).map(\.identifier))
        let rows = try await Tool.sqliteJSON(
            database,
            "SELECT name, verity, artifact_path, size_bytes, cmd, verity_root_hash FROM image_status ORDER BY id")
        #expect(rows.map { $0["name"] as? String } == ["a", "b", "waiting"])
        #expect(rows.map { $0["verity"] as? Int } == [0, 0, 1])
        #expect(rows.map { $0["artifact_path"] as? String } == ["/d/aa.ext4", "/d/aa.erofs", nil])
        #expect(rows[0]["cmd"] as? String == "[\"/bin/sh\"]" && rows[1]["size_bytes"] as? Int == 8192)
        #expect(rows.allSatisfy { $0["verity_root_hash"] is NSNull })
        let artifacts = try await Tool.run(
            "/usr/bin/sqlite3", [database, "SELECT id, format, verity, conversions FROM artifacts ORDER BY id"])
        #expect(artifacts == "2|ext4|0|1\n3|erofs|0|2\n")
        // A disk with a tree is a second artifact of the same digest and format; ids go on after 3.
        _ = try await Tool.run(
            "/usr/bin/sqlite3",
            [database, "INSERT INTO artifacts (manifest_digest, format, verity) VALUES ('sha256:aa', 'ext4', 1)"])
        #expect(try await Tool.run("/usr/bin/sqlite3", [database, "SELECT max(id) FROM artifacts"]) == "4\n")
        let refused = try? await Tool.run("/usr/bin/sqlite3", [database, "INSERT INTO images (name, verity) VALUES ('x', 2)"])
        #expect(refused == nil, "verity = 2 must be refused")
    }

    @Test("0005-hosts keeps every artifact as the local host's, with the rows' links and the id sequence")
    func hostsKeepArtifacts() async throws {
        let database = directory.appendingPathComponent("before-hosts.db").path
        let before = Migrations.all.prefix { $0.identifier != "0005-hosts" }
        #expect(before.count == 4)
        let inserts = before.map { "\($0.sql);\nINSERT INTO schema_migrations (identifier) VALUES ('\($0.identifier)');" }
        _ = try await Tool.run(
            "/usr/bin/sqlite3",
            [
                database,
                """
                PRAGMA foreign_keys = ON;
                CREATE TABLE schema_migrations (identifier TEXT PRIMARY KEY,
                    applied_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
                ) WITHOUT ROWID;
                \(inserts.joined(separator: "\n"))
                PRAGMA user_version = 4;
                INSERT INTO artifacts (manifest_digest, format, verity, state, path, size_bytes, config_json, conversions,
                                       verity_root_hash)
                VALUES ('sha256:gone', 'ext4', 1, 'ready', '/d/gone.ext4', 1, '{}', 1, 'ab'),
                       ('sha256:aa', 'ext4', 1, 'ready', '/d/aa.ext4', 4096, '{"Cmd":["/bin/sh"]}', 1, 'cd'),
                       ('sha256:aa', 'cpio', 0, 'ready', '/d/aa.cpio', 8192, '{}', 2, NULL);
                DELETE FROM artifacts WHERE manifest_digest = 'sha256:gone';
                INSERT INTO images (name, format, status, manifest_digest, artifact_id)
                VALUES ('a', 'ext4', 'ready', 'sha256:aa', 2), ('b', 'cpio', 'ready', 'sha256:aa', 3);
                INSERT INTO images (name) VALUES ('waiting');
                """,
            ])
        #expect(try await ImageQueue.migrate(path: database) == ["0005-hosts", "0006-erofs-layers"])
        let rows = try await Tool.sqliteJSON(
            database,
            "SELECT name, artifact_path, verity_root_hash, cmd, target_host, artifact_host FROM image_status ORDER BY id")
        #expect(rows.map { $0["name"] as? String } == ["a", "b", "waiting"])
        #expect(rows.map { $0["artifact_path"] as? String } == ["/d/aa.ext4", "/d/aa.cpio", nil])
        #expect(rows.map { $0["artifact_host"] as? String } == ["", "", nil])
        #expect(rows.allSatisfy { $0["target_host"] is NSNull })
        #expect(rows[0]["verity_root_hash"] as? String == "cd" && rows[0]["cmd"] as? String == "[\"/bin/sh\"]")
        let artifacts = try await Tool.run(
            "/usr/bin/sqlite3", [database, "SELECT id, host, format, verity, conversions FROM artifacts ORDER BY id"])
        #expect(artifacts == "2||ext4|1|1\n3||cpio|0|2\n")
        // The same digest, format and verity on another host is a second artifact; ids go on after 3.
        _ = try await Tool.run(
            "/usr/bin/sqlite3",
            [database, "INSERT INTO artifacts (host, manifest_digest, format, verity) VALUES ('hv-2', 'sha256:aa', 'ext4', 1)"])
        #expect(try await Tool.run("/usr/bin/sqlite3", [database, "SELECT max(id) FROM artifacts"]) == "4\n")
        let twice = try? await Tool.run(
            "/usr/bin/sqlite3",
            [database, "INSERT INTO artifacts (host, manifest_digest, format, verity) VALUES ('hv-2', 'sha256:aa', 'ext4', 1)"])
        #expect(twice == nil, "one artifact per (host, digest, format, verity)")
        let empty = try? await Tool.run("/usr/bin/sqlite3", [database, "INSERT INTO images (name, target_host) VALUES ('x', '')"])
        #expect(empty == nil, "target_host '' must be refused")
        let blob = try? await Tool.run("/usr/bin/sqlite3", [database, "INSERT INTO images (name, target_host) VALUES ('x', X'00')"])
        #expect(blob == nil, "a target_host that is not text must be refused")
    }

    @Test("0006-erofs-layers keeps every row, artifact, link and id sequence, and accepts the erofs-layers format")
    func erofsLayersKeepsRows() async throws {
        let database = directory.appendingPathComponent("before-layers.db").path
        let before = Migrations.all.prefix { $0.identifier != "0006-erofs-layers" }
        #expect(before.count == 5)
        let inserts = before.map { "\($0.sql);\nINSERT INTO schema_migrations (identifier) VALUES ('\($0.identifier)');" }
        _ = try await Tool.run(
            "/usr/bin/sqlite3",
            [
                database,
                """
                PRAGMA foreign_keys = ON;
                CREATE TABLE schema_migrations (identifier TEXT PRIMARY KEY,
                    applied_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
                ) WITHOUT ROWID;
                \(inserts.joined(separator: "\n"))
                PRAGMA user_version = 5;
                INSERT INTO artifacts (host, manifest_digest, format, verity, state, path, size_bytes, config_json,
                                       conversions, verity_root_hash)
                VALUES ('', 'sha256:gone', 'ext4', 1, 'ready', '/d/gone.ext4', 1, '{}', 1, 'ab'),
                       ('hv-1', 'sha256:aa', 'erofs', 1, 'ready', '/d/aa.erofs', 4096, '{"Cmd":["/bin/sh"]}', 3, 'cd');
                DELETE FROM artifacts WHERE manifest_digest = 'sha256:gone';
                INSERT INTO images (name, format, status, manifest_digest, artifact_id, target_host, priority)
                VALUES ('a', 'erofs', 'ready', 'sha256:aa', 2, 'hv-1', 7);
                INSERT INTO images (name) VALUES ('gone');
                DELETE FROM images WHERE name = 'gone';
                INSERT INTO images (name, status, error, error_kind) VALUES ('broken', 'failed', 'no such tag', 'permanent');
                """,
            ])
        #expect(try await ImageQueue.migrate(path: database) == ["0006-erofs-layers"])
        let rows = try await Tool.run(
            "/usr/bin/sqlite3",
            [database, "SELECT id, name, format, status, priority, target_host, artifact_path, cmd, layers, error FROM image_status ORDER BY id"])
        #expect(rows == "1|a|erofs|ready|7|hv-1|/d/aa.erofs|[\"/bin/sh\"]||\n3|broken|ext4|failed|0|||||no such tag\n")
        let artifacts = try await Tool.run(
            "/usr/bin/sqlite3", [database, "SELECT id, host, format, conversions, verity_root_hash, layers_json IS NULL FROM artifacts"])
        #expect(artifacts == "2|hv-1|erofs|3|cd|1\n")
        // Ids go on after the deleted ones, in both tables.
        _ = try await Tool.run(
            "/usr/bin/sqlite3",
            [
                database,
                """
                INSERT INTO images (name, format) VALUES ('layered', 'erofs-layers');
                INSERT INTO artifacts (manifest_digest, format, layers_json) VALUES ('sha256:bb', 'erofs-layers', '[]');
                """,
            ])
        #expect(try await Tool.run("/usr/bin/sqlite3", [database, "SELECT max(id) FROM images"]) == "4\n")
        #expect(try await Tool.run("/usr/bin/sqlite3", [database, "SELECT max(id) FROM artifacts"]) == "3\n")
        let bogus = try? await Tool.run("/usr/bin/sqlite3", [database, "INSERT INTO images (name, format) VALUES ('x', 'squashfs')"])
        #expect(bogus == nil, "an unknown format must still be refused")
        let check = try await Tool.run("/usr/bin/sqlite3", [database, "PRAGMA foreign_key_check; PRAGMA integrity_check"])
        #expect(check == "ok\n")
    }
}
