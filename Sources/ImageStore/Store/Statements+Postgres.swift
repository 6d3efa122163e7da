/// Statements only the PostgreSQL backend runs: its migration bookkeeping, locks and LISTEN.
extension Statements {
    /// The advisory lock key (`pg_advisory_xact_lock`) of migrations, held until the
    /// transaction ends: 'iwm1' as a 32-bit number. Claims use 'iwc1' (1769431857), written
    /// into ``beginClaim``.
    static let migrationLockKey = 0x6977_6D31

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

    // MARK: - Claims

    /// No parameters. Opens a claim transaction. SQLite: `BEGIN IMMEDIATE` (the write lock
    /// serialises claims). PostgreSQL: `BEGIN`, generic plans for this transaction (claimNext
    /// and headPending are written so the generic plan is the right one for every host: see
    /// ``claimNext``; a prepared claim is then planned once per connection, not per claim), the
    /// claim advisory lock (only claims take it, so the in-flight count a claim reads cannot be
    /// raced past max_in_flight; other writes never wait for it), and a savepoint to return to
    /// when the head row cannot be claimed. ``PostgresConnection`` sends these with the
    /// transaction's first statement, in one round trip.
    static let beginClaim = SQLStatement(
        name: "beginClaim", sql: "BEGIN IMMEDIATE",
        postgres: """
            BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; SELECT pg_advisory_xact_lock(1769431857);
            SAVEPOINT claim_head
            """)
    /// No parameters. PostgreSQL: undoes a claimNext the schema refused (the transaction stays open).
    static let rollbackToClaimSavepoint = SQLStatement(
        name: "rollbackToClaimSavepoint", postgres: "ROLLBACK TO SAVEPOINT claim_head")
    /// No parameters. PostgreSQL: a new savepoint after an unclaimable row was failed, so the
    /// next rollback keeps that.
    static let setClaimSavepoint = SQLStatement(name: "setClaimSavepoint", postgres: "SAVEPOINT claim_head")

    /// No parameters. Opens a transaction that reads, then writes what it read decided
    /// (createImage's reuse rule, acquireBuild's who-converts). SQLite: `BEGIN IMMEDIATE`, which
    /// serialises every write anyway. PostgreSQL: `BEGIN` and the advisory lock 'iwb1'
    /// (1769431601), so two such transactions never both see "no row" under READ COMMITTED and
    /// both insert (two rows for one image, or a unique violation on artifacts).
    static let beginSerialized = SQLStatement(
        name: "beginSerialized", sql: "BEGIN IMMEDIATE", postgres: "BEGIN; SELECT pg_advisory_xact_lock(1769431601)")

    // MARK: - Wake-up

    /// No parameters. Subscribes the connection to the queue's NOTIFY channel (schema-postgres.sql).
    static let listenQueue = SQLStatement(name: "listenQueue", postgres: "LISTEN image_worker_queue")
}
