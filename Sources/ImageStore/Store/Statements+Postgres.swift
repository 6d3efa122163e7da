/// Statements only the PostgreSQL backend runs: its migration bookkeeping and locks.
extension Statements {
    /// Advisory lock keys (`pg_advisory_xact_lock`), held until the transaction ends. Constants
    /// of this program: 'iwm1' (migrations) and 'iwc1' (claims) as 32-bit numbers.
    static let migrationLockKey = 0x6977_6D31
    static let claimLockKey = 0x6977_6331

    /// ?1 lock key. Waits until no other transaction holds the key, then holds it to the end
    /// of this one.
    static let advisoryTransactionLock = SQLStatement(
        name: "advisoryTransactionLock", postgres: "SELECT pg_advisory_xact_lock($1::bigint)")
    /// No parameters. Same text as schema-postgres.sql (the schema test compares them).
    static let createPostgresSchemaMigrations = SQLStatement(
        name: "createPostgresSchemaMigrations",
        postgres: """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                identifier TEXT PRIMARY KEY,
                applied_at BIGINT NOT NULL DEFAULT ((extract(epoch FROM now()) * 1000)::bigint)
            )
            """)
}
