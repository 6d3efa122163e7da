import Migrations

/// Brings a database to the schema of ``Migrations/all``.
///
/// Creates `schema_migrations` itself, then applies each pending step and records its
/// identifier in one `BEGIN IMMEDIATE` transaction, setting `PRAGMA user_version` to the
/// number applied. Running it again changes nothing; several processes may run it at once
/// (each step re-checks under the write lock). A database listing an identifier this binary
/// does not know was migrated by a newer binary and is refused.
struct Migrator: Sendable {
    let migrations: [Migration]

    init(migrations: [Migration] = Migrations.all) {
        self.migrations = migrations
    }

    /// Applies the pending steps.
    /// - Returns: the identifiers applied now, oldest first (empty when up to date).
    /// - Throws: `MigrationError.unknownMigration`, `MigrationError.stepFailed`, `StoreError`.
    @discardableResult
    func migrate(_ connection: SQLiteConnection) async throws -> [String] {
        let known = migrations.map(\.identifier)
        let path = connection.path
        let upToDate = try await connection.read { db in
            let exists = try db.query(Statements.schemaMigrationsExists).first?.int("count") ?? 0
            guard exists > 0 else { return false }
            let applied = try Self.applied(db)
            try Self.refuseUnknown(applied, known: known, path: path)
            return Set(known).isSubset(of: applied)
        }
        if upToDate { return [] }
        try await connection.write { db in
            try db.execute(Statements.createSchemaMigrations)
        }
        var appliedNow: [String] = []
        for (index, migration) in migrations.enumerated() {
            let didApply = try await connection.write { db in
                let applied = try Self.applied(db)
                try Self.refuseUnknown(applied, known: known, path: path)
                guard !applied.contains(migration.identifier) else { return false }
                do {
                    try db.executeScript(migration.sql, name: migration.identifier)
                } catch let error as StoreError {
                    throw MigrationError.stepFailed(identifier: migration.identifier, error: error)
                }
                try db.execute(Statements.recordMigration, [.text(migration.identifier)])
                try db.execute(Statements.setUserVersion(index + 1))
                return true
            }
            if didApply { appliedNow.append(migration.identifier) }
        }
        return appliedNow
    }

    private static func applied(_ db: any SQLSession) throws -> Set<String> {
        Set(try db.query(Statements.appliedMigrations).map { try $0.text("identifier") })
    }

    private static func refuseUnknown(_ applied: Set<String>, known: [String], path: String) throws {
        if let unknown = applied.subtracting(known).sorted().first {
            throw MigrationError.unknownMigration(identifier: unknown, path: path)
        }
    }
}
