import Migrations

/// Brings a PostgreSQL database to the schema of ``Migrations/postgres``.
///
/// One transaction under an advisory lock (``Statements/migrationLockKey``): it creates
/// `schema_migrations`, refuses a database listing an identifier this binary does not know
/// (migrated by a newer binary), applies every pending step in order and records each. DDL is
/// transactional in PostgreSQL, so a failed step leaves nothing behind; several processes may
/// migrate at once (the second waits for the lock, then finds nothing to do).
struct PostgresMigrator: Sendable {
    let migrations: [Migration]

    init(migrations: [Migration] = Migrations.postgres) {
        self.migrations = migrations
    }

    /// Applies the pending steps.
    /// - Returns: the identifiers applied now, oldest first (empty when up to date).
    /// - Throws: `MigrationError.unknownMigration`, `MigrationError.stepFailed`, `StoreError`.
    @discardableResult
    func migrate(_ connection: PostgresConnection) async throws -> [String] {
        let migrations = self.migrations
        let known = migrations.map(\.identifier)
        let url = connection.url
        return try await connection.write { db in
            try db.execute(Statements.advisoryTransactionLock, [.int(Statements.migrationLockKey)])
            try db.execute(Statements.createPostgresSchemaMigrations)
            let applied = Set(try db.query(Statements.appliedMigrations).map { try $0.text("identifier") })
            if let unknown = applied.subtracting(known).sorted().first {
                throw MigrationError.unknownMigration(identifier: unknown, path: url)
            }
            var appliedNow: [String] = []
            for migration in migrations where !applied.contains(migration.identifier) {
                do {
                    try db.executeScript(migration.sql, name: migration.identifier)
                } catch let error as StoreError {
                    throw MigrationError.stepFailed(identifier: migration.identifier, error: error)
                }
                try db.execute(Statements.recordMigration, [.text(migration.identifier)])
                appliedNow.append(migration.identifier)
            }
            return appliedNow
        }
    }
}
