/// The two SQL dialects the queue speaks.
enum SQLDialect: Sendable, Equatable {
    case sqlite
    case postgres
}

/// What a transaction body runs its statements on: the connection's handle, lent to the body
/// while it runs on the connection's own thread, and never kept beyond it.
protocol SQLSession: AnyObject {
    /// The dialect of ``SQLStatement`` text this session runs.
    var dialect: SQLDialect { get }

    /// Runs `statement` to completion.
    /// - Returns: the rows it produced (a `RETURNING` clause or a query).
    /// - Throws: `StoreError`.
    @discardableResult
    func query(_ statement: SQLStatement, _ arguments: [SQLValue]) throws -> [SQLRow]

    /// Runs a data-changing statement.
    /// - Returns: the number of rows it changed.
    /// - Throws: `StoreError`.
    @discardableResult
    func execute(_ statement: SQLStatement, _ arguments: [SQLValue]) throws -> Int

    /// Runs semicolon-separated SQL text without parameters (a migration step).
    /// - Throws: `StoreError` named `name`.
    func executeScript(_ sql: String, name: String) throws

    /// Runs `statement` as the transaction's last: the body runs nothing after it returned.
    /// PostgreSQL sends the `COMMIT` with it, in one round trip (with the transaction's opening
    /// too, when it is the first); when the statement fails the `COMMIT` is skipped and the
    /// transaction stays open in the failed state, as after any failed statement, so the body
    /// may roll back to a savepoint and go on. SQLite runs it as ``query(_:_:)`` and commits
    /// when the body returns, as always.
    /// - Returns: the rows it produced.
    /// - Throws: `StoreError`; on PostgreSQL also a failed `COMMIT`.
    @discardableResult
    func queryCommitting(_ statement: SQLStatement, _ arguments: [SQLValue]) throws -> [SQLRow]

    /// ``queryCommitting(_:_:)`` for a data-changing statement.
    /// - Returns: the number of rows it changed.
    /// - Throws: `StoreError`.
    @discardableResult
    func executeCommitting(_ statement: SQLStatement, _ arguments: [SQLValue]) throws -> Int
}

extension SQLSession {
    /// ``query(_:_:)`` without arguments.
    @discardableResult
    func query(_ statement: SQLStatement) throws -> [SQLRow] { try query(statement, []) }

    /// ``execute(_:_:)`` without arguments.
    @discardableResult
    func execute(_ statement: SQLStatement) throws -> Int { try execute(statement, []) }

    /// ``query(_:_:)``: the commit follows when the body returns (SQLite).
    @discardableResult
    func queryCommitting(_ statement: SQLStatement, _ arguments: [SQLValue]) throws -> [SQLRow] {
        try query(statement, arguments)
    }

    /// ``execute(_:_:)``: the commit follows when the body returns (SQLite).
    @discardableResult
    func executeCommitting(_ statement: SQLStatement, _ arguments: [SQLValue]) throws -> Int {
        try execute(statement, arguments)
    }
}

/// A connection ``ImageQueue`` runs its transactions on: ``SQLiteConnection`` or
/// ``PostgresConnection``. Each body runs synchronously on the connection's own thread.
protocol QueueDatabase: Sendable {
    /// The dialect its sessions speak.
    var dialect: SQLDialect { get }
    /// The SQLite path or the PostgreSQL URL (password redacted), for messages.
    var location: String { get }

    /// Runs `body` in a write transaction opened by `begin` (``Statements/beginImmediate``
    /// unless a statement needs more, such as the claim's advisory lock), committing when it
    /// returns and rolling back when it throws.
    func write<T: Sendable>(begin: SQLStatement, _ body: @Sendable (any SQLSession) throws -> T) async throws -> T

    /// Runs `body` outside a transaction (reads, single statements).
    func read<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) async throws -> T
}

extension QueueDatabase {
    /// ``write(begin:_:)`` with a plain write transaction.
    @discardableResult
    func write<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await write(begin: Statements.beginImmediate, body)
    }
}
