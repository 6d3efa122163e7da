import CSQLite
import Foundation
import Synchronization

/// One SQLite connection: the only code that calls libsqlite3.
///
/// Opens with WAL, `foreign_keys=ON`, `synchronous=NORMAL` and a busy timeout. Statements are
/// prepared once and cached by name. Writes go through ``write(begin:_:)``: `BEGIN IMMEDIATE`
/// takes the write lock up front, so no statement inside fails with SQLITE_BUSY.
///
/// Where a transaction runs: the handle sits behind a lock (`gate`), and a transaction first
/// tries it on the caller's own thread, without waiting anywhere: the lock only if free, and
/// `BEGIN` with no busy timeout. That is the common case (this process alone on the lock),
/// and it costs no thread switch. When either is taken (another task of this process, or
/// another process holding the write lock), the transaction goes to the connection's own
/// ``ConnectionExecutor`` thread (this actor's executor), which may wait: for the gate, and
/// inside SQLite for up to ``busyTimeoutMilliseconds`` per `BEGIN`, retried with backoff.
/// So a busy wait never blocks the cooperative pool, and the handle is used by one thread at a
/// time. A transaction run on the caller's thread does not suspend the caller: a task looping
/// over queue calls and nothing else keeps its thread (``ClaimConcurrencyTests`` yields).
actor SQLiteConnection: QueueDatabase {
    /// How long one `BEGIN IMMEDIATE` on the connection thread waits inside SQLite for the write lock.
    static let busyTimeoutMilliseconds: Int32 = 5_000
    /// `BEGIN IMMEDIATE` tries before ``StoreError/busy(name:code:message:attempts:)``.
    static let beginAttempts = 8
    /// The connection thread's name (`top -H`, debuggers, tests; Linux keeps at most 15 bytes).
    static let threadName = "iw-sqlite"

    /// The database file, for error messages.
    nonisolated let path: String
    nonisolated var location: String { path }
    nonisolated let dialect = SQLDialect.sqlite
    private nonisolated let executor: ConnectionExecutor
    /// The handle; whoever holds the lock is its only user.
    private nonisolated let gate: Mutex<SQLiteHandle>

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private init(path: String, handle: SQLiteHandle) {
        self.path = path
        self.gate = Mutex(handle)
        self.executor = ConnectionExecutor(name: Self.threadName)
    }

    deinit {
        executor.stop()
    }

    /// Opens (creating if needed) the database at `path` and configures the connection.
    /// - Throws: `StoreError.open`, or `StoreError.statement` for a pragma that failed.
    static func open(path: String) async throws -> SQLiteConnection {
        let handle = try await BlockingExecutor.shared.run { try SQLiteHandle.open(path: path) }
        let connection = SQLiteConnection(path: path, handle: handle)
        try await connection.configure()
        return connection
    }

    private func configure() throws {
        try gate.withLock { handle in
            handle.waitWhenBusy(true)
            try Self.retryingBusy(name: Statements.configure.name) {
                try handle.executeScript(Statements.configure.sql, name: Statements.configure.name)
            }
        }
    }

    // MARK: - Transactions

    /// Runs `body` in a `begin` (`BEGIN IMMEDIATE`) transaction, committing when it returns and
    /// rolling back when it throws: on the caller's thread when the handle and the write lock
    /// are free at once, else on the connection thread (see the type's documentation).
    ///
    /// SQLITE_BUSY at `BEGIN` on the connection thread (another process kept the write lock
    /// through `busy_timeout`) is retried with exponential backoff up to ``beginAttempts`` times.
    /// - Throws: what `body` threw, `StoreError.busy` past the retries, or `StoreError.statement`.
    @discardableResult
    nonisolated func write<T: Sendable>(
        begin: SQLStatement = Statements.beginImmediate, _ body: @Sendable (any SQLSession) throws -> T
    ) async throws -> T {
        let inline = try gate.withLockIfAvailable { handle -> T? in
            handle.waitWhenBusy(false)
            do {
                try handle.execute(begin, [])
            } catch StoreError.statement(_, let code, _) where StoreError.isBusy(code: code) {
                return nil
            }
            // Inside the transaction, as on the connection thread (in WAL mode with the write
            // lock held no statement is expected to wait).
            handle.waitWhenBusy(true)
            return try Self.committing(handle, body)
        }
        if let result = inline, let result { return result }
        return try await writeOnThread(begin: begin, body)
    }

    /// ``write(begin:_:)`` on the connection thread, waiting as long as it takes.
    private func writeOnThread<T: Sendable>(begin: SQLStatement, _ body: @Sendable (any SQLSession) throws -> T)
        throws -> T
    {
        try gate.withLock { handle in
            handle.waitWhenBusy(true)
            try Self.retryingBusy(name: begin.name) { try handle.execute(begin, []) }
            return try Self.committing(handle, body)
        }
    }

    /// Runs `body` inside the transaction just begun on `handle`, then commits it; rolls back
    /// when either throws.
    private static func committing<T>(_ handle: SQLiteHandle, _ body: (any SQLSession) throws -> T) throws -> T {
        do {
            let result = try body(handle)
            try handle.execute(Statements.commit, [])
            return result
        } catch {
            if sqlite3_get_autocommit(handle.db) == 0 {
                _ = try? handle.execute(Statements.rollback, [])
            }
            throw error
        }
    }

    /// Runs `body` on the connection (a read, or a single autocommit statement): on the
    /// caller's thread when the handle is free and nothing is busy, else (from the start again)
    /// on the connection thread, where SQLITE_BUSY is waited on and `body` retried with backoff.
    /// `body` may therefore run more than once; what it ran before a busy error changed nothing.
    /// - Throws: what `body` threw.
    @discardableResult
    nonisolated func read<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) async throws -> T {
        let inline = try gate.withLockIfAvailable { handle -> T? in
            handle.waitWhenBusy(false)
            do {
                return try body(handle)
            } catch StoreError.statement(_, let code, _) where StoreError.isBusy(code: code) {
                return nil
            }
        }
        if let result = inline, let result { return result }
        return try await readOnThread(body)
    }

    /// ``read(_:)`` on the connection thread.
    private func readOnThread<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T {
        try gate.withLock { handle in
            handle.waitWhenBusy(true)
            return try Self.retryingBusy(name: "read") { try body(handle) }
        }
    }

    /// Runs `body`, again after a backoff sleep while it fails with SQLITE_BUSY, up to
    /// ``beginAttempts`` times. Only the connection thread calls it: sleeping blocks nobody else.
    @discardableResult
    private static func retryingBusy<T>(name: String, _ body: () throws -> T) throws -> T {
        var delay = 0.005
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try body()
            } catch StoreError.statement(_, let code, let message) where StoreError.isBusy(code: code) {
                if attempt >= Self.beginAttempts {
                    throw StoreError.busy(name: name, code: code, message: message, attempts: attempt)
                }
                Thread.sleep(forTimeInterval: delay * Double.random(in: 0.5...1.5))
                delay = min(delay * 4, 1.0)
            }
        }
    }
}

/// Owns the `sqlite3*` handle and its cached statements; `deinit` finalizes and closes them.
/// The ``SQLSession`` a transaction body runs on. `@unchecked Sendable`: only its
/// ``SQLiteConnection`` touches it, holding the connection's gate, and lends it to a body only
/// while the body runs under that lock.
private final class SQLiteHandle: SQLSession, @unchecked Sendable {
    let dialect = SQLDialect.sqlite
    let db: OpaquePointer
    var statements: [String: OpaquePointer] = [:]
    private var waitsWhenBusy = false

    init(db: OpaquePointer) {
        self.db = db
    }

    /// Process-wide settings made once, before the first connection opens: no memory
    /// statistics (nothing reads them, and their mutex is taken on every allocation).
    private static let libraryConfigured: Bool = csqlite_disable_memory_statistics() == SQLITE_OK

    /// Opens `path` read-write, creating it, with extended result codes and the busy timeout.
    static func open(path: String) throws -> SQLiteHandle {
        _ = libraryConfigured
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &db, flags, nil)
        guard let db else {
            throw StoreError.open(path: path, code: Int(code), message: "out of memory")
        }
        let handle = SQLiteHandle(db: db)
        guard code == SQLITE_OK else {
            throw StoreError.open(path: path, code: Int(code), message: String(cString: sqlite3_errmsg(db)))
        }
        sqlite3_extended_result_codes(db, 1)
        handle.waitWhenBusy(true)
        return handle
    }

    /// Whether SQLite waits (up to ``SQLiteConnection/busyTimeoutMilliseconds``) for a lock
    /// another connection holds, or returns SQLITE_BUSY at once.
    func waitWhenBusy(_ wait: Bool) {
        guard wait != waitsWhenBusy else { return }
        sqlite3_busy_timeout(db, wait ? SQLiteConnection.busyTimeoutMilliseconds : 0)
        waitsWhenBusy = wait
    }

    deinit {
        for stmt in statements.values { sqlite3_finalize(stmt) }
        sqlite3_close_v2(db)
    }

    // MARK: - Statements (SQLSession)

    /// Runs `statement` to completion.
    /// - Returns: the rows it produced (a `RETURNING` clause or a query).
    /// - Throws: `StoreError.statement` with the statement's name and SQLite's code and message.
    @discardableResult
    func query(_ statement: SQLStatement, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let stmt = try prepared(statement)
        defer {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
        }
        for (offset, value) in arguments.enumerated() {
            try check(bind(value, to: stmt, at: Int32(offset + 1)), statement.name)
        }
        var rows: [SQLRow] = []
        while true {
            let code = sqlite3_step(stmt)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { try check(code, statement.name); return rows }
            rows.append(row(of: stmt, statement: statement.name))
        }
    }

    /// Runs a data-changing statement.
    /// - Returns: the number of rows it changed.
    /// - Throws: `StoreError.statement`.
    @discardableResult
    func execute(_ statement: SQLStatement, _ arguments: [SQLValue]) throws -> Int {
        try query(statement, arguments)
        return Int(sqlite3_changes(db))
    }

    /// Runs semicolon-separated SQL text (a migration step) with `sqlite3_exec`.
    /// - Throws: `StoreError.statement` named `name`.
    func executeScript(_ sql: String, name: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(db, sql, nil, nil, &message)
        let text = message.map { String(cString: $0) } ?? ""
        sqlite3_free(message)
        guard code == SQLITE_OK else {
            throw StoreError.statement(name: name, code: Int(sqlite3_extended_errcode(db)), message: text)
        }
    }

    // MARK: - C calls

    private func prepared(_ statement: SQLStatement) throws -> OpaquePointer {
        if let cached = statements[statement.name] { return cached }
        var stmt: OpaquePointer?
        let code = sqlite3_prepare_v3(
            db, statement.sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        try check(code, statement.name)
        guard let stmt else {
            throw StoreError.statement(name: statement.name, code: Int(code), message: "empty statement")
        }
        statements[statement.name] = stmt
        return stmt
    }

    private func bind(_ value: SQLValue, to stmt: OpaquePointer, at index: Int32) -> Int32 {
        switch value {
        case .integer(let number): return sqlite3_bind_int64(stmt, index, number)
        case .real(let number): return sqlite3_bind_double(stmt, index, number)
        case .text(let text): return csqlite_bind_text(stmt, index, text, -1)
        case .null: return sqlite3_bind_null(stmt, index)
        }
    }

    private func row(of stmt: OpaquePointer, statement: String) -> SQLRow {
        var values: [String: SQLValue] = [:]
        for column in 0..<sqlite3_column_count(stmt) {
            let name = String(cString: sqlite3_column_name(stmt, column))
            switch sqlite3_column_type(stmt, column) {
            case SQLITE_INTEGER: values[name] = .integer(sqlite3_column_int64(stmt, column))
            case SQLITE_FLOAT: values[name] = .real(sqlite3_column_double(stmt, column))
            case SQLITE_NULL: values[name] = .null
            default:
                if let text = sqlite3_column_text(stmt, column) {
                    values[name] = .text(String(cString: text))
                } else {
                    values[name] = .null
                }
            }
        }
        return SQLRow(statement: statement, values: values)
    }

    /// Turns a result code other than OK/ROW/DONE into `StoreError.statement`.
    private func check(_ code: Int32, _ name: String) throws {
        guard code != SQLITE_OK && code != SQLITE_ROW && code != SQLITE_DONE else { return }
        throw StoreError.statement(
            name: name, code: Int(sqlite3_extended_errcode(db)),
            message: String(cString: sqlite3_errmsg(db)))
    }
}
