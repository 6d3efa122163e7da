import Foundation

/// The multi-process build queue in the SQLite database: enqueue, claim, lease, finish.
///
/// ```
///            claim (lease_token+1, attempts+1)      markConverting
///  pending ─────────────────────────────────▶ pulling ─────────▶ converting ──complete──▶ ready
///     ▲  ▲                                       │                   │
///     │  └── requeue (transient, backoff) ───────┤◀──────────────────┤──fail──▶ failed
///     │  └── release (graceful stop) ────────────┤                   │            │
///     │  └── recover (lease expired) ────────────┘◀──────────────────┘            │
///     └────────────────────────────── retry ──────────────────────────────────────┘
/// ```
///
/// Every process opens its own queue on the same database: a SQLite file, or a PostgreSQL
/// server shared by a fleet of hosts (``DatabaseLocation``). A claim takes the best due row in
/// one write transaction, so two processes never take the same row, and it refuses while
/// `max_in_flight` rows are pulling or converting: on SQLite one `UPDATE … WHERE id = (SELECT
/// … LIMIT 1) RETURNING` inside `BEGIN IMMEDIATE` (the write lock serialises claims); on
/// PostgreSQL the same UPDATE picks its row `FOR UPDATE SKIP LOCKED` after taking a
/// transaction-scoped advisory lock that only claims take, so the in-flight count it reads
/// (in a statement that starts after the lock is granted, hence sees every earlier claim's
/// commit) cannot be raced past the limit under READ COMMITTED. Every later update of a claim
/// names its lease token and is refused with ``QueueError/leaseLost(id:token:)`` once recovery
/// or another claim took the row: a stopped-then-resumed worker cannot overwrite newer state.
///
/// Hosts: each queue acts as one ``host``. A claim takes only rows pinned to nobody or to it
/// (`images.target_host`), and artifacts are per host (``acquireBuild(_:manifestDigest:format:verity:path:now:)``
/// shares only this host's disks), because a disk file is in the data directory of the host that
/// built it.
///
/// Times are milliseconds since the Unix epoch. Every `now:` parameter may be given (tests
/// advance time by hand) or left `nil`: the database's clock, which for PostgreSQL is the
/// server's `now()` so that leases, heartbeats and recovery never depend on the clocks of the
/// hosts (for SQLite, the local clock, which is the database's).
public struct ImageQueue: Sendable {
    /// Formats a row may ask for.
    public static let formats = DiskFormat.allCases.map(\.rawValue)
    /// Values of `images.status`, in pipeline order.
    public static let statuses = ["pending", "pulling", "converting", "ready", "failed"]

    let database: any QueueDatabase
    /// PostgreSQL only: the connection that LISTENs for queue changes (opened on first wait).
    let listener: QueueListener?
    /// The host this process runs on, as the fleet names it (`--host-id`): claims take only
    /// rows whose `target_host` is NULL or this, and artifacts are shared, deleted, collected
    /// and counted only when their `host` is this (the disk files are in this host's data
    /// directory). `""` (``localHost``) is "the host of this database file", a SQLite
    /// database's default.
    public let host: String

    /// The host id of the one host a SQLite database file lives on, and of every artifact
    /// built before hosts existed (migration 0005-hosts).
    public static let localHost = ""

    init(database: any QueueDatabase, listener: QueueListener? = nil, host: String = ImageQueue.localHost) {
        self.database = database
        self.listener = listener
        self.host = host
    }

    /// The SQLite database file, or the PostgreSQL URL with its password redacted.
    public var path: String { database.location }

    /// Opens the database at `path` (a SQLite path, or a `postgres://` / `postgresql://` URL),
    /// creating a SQLite file if needed, and applies pending migrations.
    /// - Parameter host: this process's host id (``host``); `nil` is the default of the
    ///   backend (``defaultHost(for:)``).
    /// - Throws: `StoreError` when the database refuses, `MigrationError` for a newer database.
    public static func open(path: String, host: String? = nil) async throws -> ImageQueue {
        let host = host ?? defaultHost(for: path)
        switch DatabaseLocation(path) {
        case .sqlite(let path):
            let connection = try await SQLiteConnection.open(path: path)
            try await Migrator().migrate(connection)
            return ImageQueue(database: connection, host: host)
        case .postgres(let url):
            let connection = try await PostgresConnection.open(url: url)
            try await PostgresMigrator().migrate(connection)
            return ImageQueue(database: connection, listener: QueueListener(url: url), host: host)
        }
    }

    /// The host id of a process that names none: on PostgreSQL (a fleet's shared database) this
    /// machine's hostname; on SQLite ``localHost``, because the file lives on one host whatever
    /// that host is called, so renaming the machine never orphans its disks.
    public static func defaultHost(for path: String) -> String {
        switch DatabaseLocation(path) {
        case .sqlite: return localHost
        case .postgres: return ProcessInfo.processInfo.hostName
        }
    }

    /// Opens the database at `path` (a SQLite path, or a `postgres://` URL) and applies pending
    /// migrations, nothing else.
    /// - Returns: the identifiers of the migrations applied now (empty when up to date).
    /// - Throws: `StoreError`, `MigrationError`.
    public static func migrate(path: String) async throws -> [String] {
        switch DatabaseLocation(path) {
        case .sqlite(let path): return try await Migrator().migrate(try await SQLiteConnection.open(path: path))
        case .postgres(let url): return try await PostgresMigrator().migrate(try await PostgresConnection.open(url: url))
        }
    }

    /// Milliseconds since the Unix epoch now, for callers without an injected clock.
    public static func nowMilliseconds() -> Int {
        Int((Date().timeIntervalSince1970 * 1000).rounded())
    }

    // MARK: - Enqueue

    /// Adds a pending row for `name`.
    /// - Returns: the new row's id.
    /// - Throws: `QueueError.unsupportedFormat`, `StoreError`.
    @discardableResult
    public func enqueue(
        name: String, format: String = "ext4", priority: Int = 0, targetHost: String? = nil, now: Int? = nil
    ) async throws -> Int {
        try await enqueue(names: [name], format: format, priority: priority, targetHost: targetHost, now: now)[0]
    }

    /// Adds one pending row per name in a single transaction, pinned to `targetHost` when given
    /// (only workers of that host id claim it).
    /// - Returns: the new ids, in the order of `names`.
    /// - Throws: `QueueError.unsupportedFormat`, `QueueError.invalidHost`, `StoreError`.
    public func enqueue(
        names: [String], format: String = "ext4", priority: Int = 0, targetHost: String? = nil, now: Int? = nil
    ) async throws -> [Int] {
        guard Self.formats.contains(format) else { throw QueueError.unsupportedFormat(format) }
        if let targetHost { try Self.validateTargetHost(targetHost) }
        let time = time(now)
        return try await database.write { db in
            try names.map { name in
                let rows = try db.query(
                    Statements.insertImage, [.text(name), .text(format), .int(priority), time, .optionalText(targetHost)])
                return try rows.first?.int("id") ?? 0
            }
        }
    }

    // MARK: - Claim and lease

    /// Takes the best pending row (priority DESC, then id) whose `next_attempt_at` has come and
    /// whose `target_host` is NULL or this queue's ``host``.
    ///
    /// A row whose claim the schema refuses (its `attempts` or `lease_token` already at the
    /// CHECK's bound, so `+ 1` would leave the range) is failed with the reason in the same
    /// transaction, and the next row is tried: such a row never sits at the head of the queue.
    /// A missing `lease_ms` or `max_in_flight` settings row counts as its default.
    /// - Returns: the claim, or `nil` when nothing is due or `max_in_flight` rows are in flight.
    /// - Throws: `StoreError` (`.busy` when the write lock stayed taken through every retry).
    public func claim(workerID: String, now: Int? = nil) async throws -> Claim? {
        let time = time(now)
        let arguments: [SQLValue] = [
            .text(workerID), time, .int(SettingKey.leaseMilliseconds.defaultValue),
            .int(SettingKey.maxInFlight.defaultValue), .text(host),
        ]
        return try await database.write(begin: Statements.beginClaim) { db in
            for _ in 0..<Self.unclaimableRowsPerClaim {
                let rows: [SQLRow]
                do {
                    // PostgreSQL: with the opening and the COMMIT, one round trip, so the claim
                    // advisory lock is held for the server's work only. A failed claim skips the
                    // COMMIT and leaves the transaction open for the savepoint below.
                    rows = try db.queryCommitting(Statements.claimNext, arguments)
                } catch let error as StoreError where error.isRowProblem {
                    // SQLite: the failed UPDATE changed nothing and the transaction is still
                    // open. PostgreSQL: back to the savepoint beginClaim (or the last pass) set.
                    if db.dialect == .postgres { try db.execute(Statements.rollbackToClaimSavepoint) }
                    guard let id = try db.query(Statements.headPending, [time, .text(host)]).first?.int("id") else {
                        throw error
                    }
                    let reason = QueueError.unclaimable(id: id, reason: error.databaseMessage).description
                    try db.execute(Statements.failUnclaimable, [.int(id), time, .text(reason)])
                    if db.dialect == .postgres { try db.execute(Statements.setClaimSavepoint) }
                    continue
                }
                guard let row = rows.first else { return nil }
                return Claim(
                    id: try row.int("id"), name: try row.text("name"), format: try row.text("format"),
                    token: try row.int("lease_token"), attempts: try row.int("attempts"), workerID: workerID,
                    verity: try row.int("verity") != 0)
            }
            return nil
        }
    }

    /// Unclaimable rows failed by one ``claim(workerID:now:)`` before it gives up for this call.
    static let unclaimableRowsPerClaim = 16

    /// Extends the lease by `lease_ms` (read now, so a change applies at once) from `now`.
    /// - Returns: the lease length now in force, in milliseconds: the caller heartbeats again
    ///   within a third of it.
    /// - Throws: `QueueError.leaseLost` when the row is no longer this claim's.
    @discardableResult
    public func heartbeat(_ claim: Claim, now: Int? = nil) async throws -> Int {
        let arguments = fence(claim, now: now) + [.int(SettingKey.leaseMilliseconds.defaultValue)]
        let lease = try await database.write { db in
            try db.queryCommitting(Statements.heartbeat, arguments).first?.optionalInt("lease_ms")
        }
        guard let lease else { throw QueueError.leaseLost(id: claim.id, token: claim.token) }
        return lease
    }

    /// Moves the row from pulling to converting and extends the lease; `bytes_done` restarts
    /// at 0 of `layerBytes` (the layer bytes the conversion will apply), when given.
    /// - Throws: `QueueError.leaseLost`.
    public func markConverting(_ claim: Claim, layerBytes: Int64? = nil, now: Int? = nil) async throws {
        try await fenced(
            Statements.markConverting, claim, now: now,
            [.int(SettingKey.leaseMilliseconds.defaultValue), layerBytes.map(SQLValue.integer) ?? .null])
    }

    /// Marks the row ready. `nil` arguments leave their columns as they are.
    /// - Throws: `QueueError.leaseLost`.
    public func complete(
        _ claim: Claim, normalizedName: String? = nil, digest: String? = nil, manifestDigest: String? = nil,
        platform: String? = nil, artifactID: Int? = nil, now: Int? = nil
    ) async throws {
        if normalizedName == nil, digest == nil, manifestDigest == nil, platform == nil, artifactID == nil {
            return try await fenced(Statements.completeKeepingColumns, claim, now: now)
        }
        try await fenced(
            Statements.complete, claim, now: now,
            [
                .optionalText(normalizedName), .optionalText(digest), .optionalText(manifestDigest),
                .optionalText(platform), .optionalInt(artifactID),
            ])
    }

    /// Marks the row failed with `error` (one line, shown to people) and its kind.
    /// - Throws: `QueueError.leaseLost`.
    public func fail(_ claim: Claim, error: String, kind: ErrorKind, now: Int? = nil) async throws {
        try await fenced(Statements.fail, claim, now: now, [.text(error), .text(kind.columnValue)])
    }

    /// What ``requeue(_:error:retryAfter:now:)`` did.
    public enum RequeueOutcome: Sendable, Equatable {
        /// Pending again, not claimed before `notBefore` (the database's clock).
        case requeued(notBefore: Int)
        /// The claim used the last of `max_attempts`: failed instead.
        case failed
    }

    /// Returns the row to pending after a transient failure, not to be claimed for `delay`
    /// milliseconds from `now` (see ``RetryPolicy``); fails it when this was the last allowed
    /// attempt. The delay is counted on the database's clock, like the lease.
    /// - Throws: `QueueError.leaseLost`.
    @discardableResult
    public func requeue(_ claim: Claim, error: String, retryAfter delay: Int, now: Int? = nil) async throws
        -> RequeueOutcome
    {
        let fence = fence(claim, now: now)
        let changed: RequeueOutcome? = try await database.write { db in
            let maxAttempts = try Self.setting(.maxAttempts, db)
            if claim.attempts >= maxAttempts {
                let message = "\(error) (gave up after \(claim.attempts) attempts)"
                return try db.execute(Statements.fail, fence + [.text(message), .text("transient")]) == 0 ? nil : .failed
            }
            let rows = try db.query(Statements.requeue, fence + [.text(error), .int(delay)])
            return try rows.first.map { .requeued(notBefore: try $0.int("next_attempt_at")) }
        }
        guard let changed else { throw QueueError.leaseLost(id: claim.id, token: claim.token) }
        return changed
    }

    /// Gives the row back to pending without using an attempt (graceful shutdown).
    /// - Throws: `QueueError.leaseLost`.
    public func release(_ claim: Claim, now: Int? = nil) async throws {
        try await fenced(Statements.release, claim, now: now)
    }

    func fenced(_ statement: SQLStatement, _ claim: Claim, now: Int?, _ extra: [SQLValue] = [])
        async throws
    {
        let arguments = fence(claim, now: now) + extra
        let changed = try await database.write { db in try db.executeCommitting(statement, arguments) }
        if changed == 0 { throw QueueError.leaseLost(id: claim.id, token: claim.token) }
    }

    /// ?1 id, ?2 lease token, ?3 now: the leading parameters of every fenced statement.
    func fence(_ claim: Claim, now: Int?) -> [SQLValue] {
        [.int(claim.id), .int(claim.token), time(now)]
    }

    /// `now` as a bound value: as given, else the database's clock: for SQLite the local clock
    /// now, for PostgreSQL NULL, which the statement's `coalesce(…, now())` replaces.
    func time(_ now: Int?) -> SQLValue {
        if let now { return .int(now) }
        return database.dialect == .sqlite ? .int(Self.nowMilliseconds()) : .null
    }

    /// The setting's value, or its default when the row is missing.
    static func setting(_ key: SettingKey, _ db: any SQLSession) throws -> Int {
        try db.query(Statements.selectSetting, [.text(key.rawValue)]).first?.int("value") ?? key.defaultValue
    }
}

extension ErrorKind {
    /// The `error_kind` column value.
    var columnValue: String { isTransient ? "transient" : "permanent" }
}
