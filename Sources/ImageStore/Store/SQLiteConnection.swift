import CSQLite
import Foundation

/// One SQLite connection: the only code that calls libsqlite3.
///
/// An actor on its own ``ConnectionExecutor`` thread, so a busy wait never blocks the cooperative
/// pool and the handle is used by one thread at a time. Opens with WAL, `foreign_keys=ON`,
/// `synchronous=NORMAL` and a busy timeout. Statements are prepared once and cached by name.
/// Writes go through ``write(_:)``: `BEGIN IMMEDIATE` takes the write lock up front (retried
/// with backoff while another process holds it), so no statement inside fails with SQLITE_BUSY.
actor SQLiteConnection: QueueDatabase {
    /// How long one `BEGIN IMMEDIATE` waits inside SQLite for the write lock.
    static let busyTimeoutMilliseconds: Int32 = 5_000
    /// `BEGIN IMMEDIATE` tries before ``StoreError/busy(name:code:message:attempts:)``.
    static let beginAttempts = 8

    /// The database file, for error messages.
    nonisolated let path: String
    nonisolated var location: String { path }
    nonisolated let dialect = SQLDialect.sqlite
    private nonisolated let executor: ConnectionExecutor
    private let handle: SQLiteHandle

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private init(path: String, handle: SQLiteHandle) {
        self.path = path
        self.handle = handle
        self.executor = ConnectionExecutor(name: "image-worker-sqlite")
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
        try retryingBusy(name: Statements.configure.name) {
            try handle.executeScript(Statements.configure.sql, name: Statements.configure.name)
        }
    }

    // MARK: - Transactions

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction, committing when it returns and rolling
    /// back when it throws.
    ///
    /// SQLITE_BUSY at `BEGIN` (another process kept the write lock through `busy_timeout`) is
    /// retried with exponential backoff up to ``beginAttempts`` times.
    /// - Throws: what `body` threw, `StoreError.busy` past the retries, or `StoreError.statement`.
    @discardableResult
    func write<T: Sendable>(begin: SQLStatement = Statements.beginImmediate, _ body: @Sendable (any SQLSession) throws -> T)
        throws -> T
    {
        try retryingBusy(name: begin.name) {
            try handle.execute(begin, [])
        }
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

    /// Runs `body` on the connection (a read, or a single autocommit statement).
    /// - Throws: what `body` threw.
    @discardableResult
    func read<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T {
        try retryingBusy(name: "read") { try body(handle) }
    }

    @discardableResult
    private func retryingBusy<T>(name: String, _ body: () throws -> T) throws -> T {
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
                // Runs on this connection's own thread: sleeping here blocks nobody else.
                Thread.sleep(forTimeInterval: delay * Double.random(in: 0.5...1.5))
                delay = min(delay * 4, 1.0)
            }
        }
    }
}

/// Owns the `sqlite3*` handle and its cached statements; `deinit` finalizes and closes them.
/// The ``SQLSession`` a transaction body runs on. `@unchecked Sendable`: only its
/// ``SQLiteConnection`` touches it, on that actor's executor, and lends it to a body only
/// while the body runs there.
private final class SQLiteHandle: SQLSession, @unchecked Sendable {
    let dialect = SQLDialect.sqlite
    let db: OpaquePointer
    var statements: [String: OpaquePointer] = [:]

    init(db: OpaquePointer) {
        self.db = db
    }

    /// Opens `path` read-write, creating it, with extended result codes and the busy timeout.
    static func open(path: String) throws -> SQLiteHandle {
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
        sqlite3_busy_timeout(db, SQLiteConnection.busyTimeoutMilliseconds)
        return handle
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
