import CPostgres
import Foundation

/// One PostgreSQL connection: the only code that calls libpq.
///
/// An actor on its own ``ConnectionExecutor`` thread, like ``SQLiteConnection``: every libpq
/// call waits for the server, and that wait must not block the cooperative pool. Statements
/// are prepared once per connection (`PQprepare`, named after the statement) and run with
/// `PQexecPrepared`, every value bound as a text parameter, never spliced into SQL. Results
/// come back as ``SQLRow`` values: integer, boolean (as 0/1) and floating columns as numbers,
/// everything else as text. Writes go through ``write(_:)``: `BEGIN` (READ COMMITTED),
/// the body, `COMMIT`; a thrown error rolls back. A connection found broken before a
/// transaction is reset once (its prepared statements are prepared again).
actor PostgresConnection: QueueDatabase {
    /// The server, as given with any password replaced by `***`, for messages.
    nonisolated let url: String
    nonisolated var location: String { url }
    nonisolated let dialect = SQLDialect.postgres
    private nonisolated let executor: ConnectionExecutor
    private let handle: PostgresHandle

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private init(url: String) {
        self.url = DatabaseLocation.redacting(url)
        self.handle = PostgresHandle(url: self.url)
        self.executor = ConnectionExecutor(name: "iw-postgres")
    }

    deinit {
        executor.stop()
    }

    /// Connects to `url` (`postgres://user:password@host:port/database?…`, any form libpq takes).
    /// - Throws: `StoreError.connect` with libpq's message.
    static func open(url: String) async throws -> PostgresConnection {
        let connection = PostgresConnection(url: url)
        try await connection.connect(url)
        return connection
    }

    private func connect(_ conninfo: String) throws {
        handle.conn = PQconnectdb(conninfo)
        guard let conn = handle.conn, PQstatus(conn) == CONNECTION_OK else {
            throw StoreError.connect(url: url, message: handle.lastError())
        }
        // Notices (e.g. "relation already exists, skipping") would go to stderr.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
    }

    // MARK: - Transactions

    /// Runs `body` between `begin` (`BEGIN` by default) and `COMMIT`, rolling back when it throws.
    /// - Throws: what `body` threw, `StoreError.postgres`, `StoreError.connect`.
    @discardableResult
    func write<T: Sendable>(begin: SQLStatement = Statements.beginImmediate, _ body: @Sendable (any SQLSession) throws -> T)
        throws -> T
    {
        try resetIfBroken()
        defer { handle.committed = false }
        do {
            // Sent with the body's first statement (or the COMMIT), in one round trip.
            try handle.queue(begin)
            let result = try body(handle)
            if !handle.committed { try handle.execute(Statements.commit, []) }
            return result
        } catch {
            handle.abandonQueue()
            if let conn = handle.conn, PQtransactionStatus(conn) != PQTRANS_IDLE {
                _ = try? handle.execute(Statements.rollback, [])
            }
            throw error
        }
    }

    /// Runs `body` on the connection in autocommit (a read, or a single statement).
    /// - Throws: what `body` threw.
    @discardableResult
    func read<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T {
        try resetIfBroken()
        return try body(handle)
    }

    // MARK: - Notifications

    /// Waits up to `timeout` for a `NOTIFY` on a channel this connection listens to (after a
    /// `LISTEN` statement), blocking only this connection's thread.
    /// - Returns: whether a notification arrived (all pending ones are consumed).
    /// - Throws: `StoreError.connect` when the connection broke.
    func waitForNotification(timeout: Duration) throws -> Bool {
        let conn = try handle.connection()
        if drainNotifications(conn) { return true }
        var descriptor = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let ready = poll(&descriptor, 1, milliseconds)
        guard ready > 0 else { return false }
        guard PQconsumeInput(conn) == 1 else { throw StoreError.connect(url: url, message: handle.lastError()) }
        return drainNotifications(conn)
    }

    private func drainNotifications(_ conn: OpaquePointer) -> Bool {
        var any = false
        while let notice = PQnotifies(conn) {
            PQfreemem(notice)
            any = true
        }
        return any
    }

    // MARK: - Connection state

    private func resetIfBroken() throws {
        let conn = try handle.connection()
        guard PQstatus(conn) != CONNECTION_OK else { return }
        PQreset(conn)
        handle.prepared.removeAll()
        guard PQstatus(conn) == CONNECTION_OK else { throw StoreError.connect(url: url, message: handle.lastError()) }
    }
}

/// Owns the `PGconn*` and the names of its prepared statements; `deinit` closes it. The
/// ``SQLSession`` a transaction body runs on. `@unchecked Sendable`: only its
/// ``PostgresConnection`` touches it, on that actor's executor, and lends it to a body only
/// while the body runs there.
///
/// Queued statements: ``queue(_:)`` puts the connection in libpq's pipeline mode and sends a
/// transaction's opening commands without waiting; the next statement goes after them, and one
/// sync collects every result, so opening a transaction costs no round trip of its own. The
/// first failure among them is the error thrown; the connection leaves pipeline mode either way.
private final class PostgresHandle: SQLSession, @unchecked Sendable {
    let dialect = SQLDialect.postgres
    let url: String
    var conn: OpaquePointer?
    var prepared: Set<String> = []
    /// The statements sent in pipeline mode whose results are not read yet, in order.
    private var queued: [String] = []
    /// Whether the current transaction's COMMIT went with its last statement
    /// (``queryCommitting(_:_:)``); ``PostgresConnection/write(begin:_:)`` clears it at the end.
    var committed = false

    init(url: String) {
        self.url = url
    }

    deinit {
        if let conn { PQfinish(conn) }
    }

    // MARK: - Statements (SQLSession)

    /// Runs `statement` (its PostgreSQL text) to completion.
    /// - Returns: the rows it produced (a `RETURNING` clause or a query).
    /// - Throws: `StoreError.postgres` with the statement's name, SQLSTATE and message;
    ///   `StoreError.connect` when the connection is gone.
    @discardableResult
    func query(_ statement: SQLStatement, _ arguments: [SQLValue]) throws -> [SQLRow] {
        rows(clearing: try run(statement, arguments), statement: statement.name)
    }

    /// Runs a data-changing statement.
    /// - Returns: the number of rows it changed.
    /// - Throws: `StoreError.postgres`, `StoreError.connect`.
    @discardableResult
    func execute(_ statement: SQLStatement, _ arguments: [SQLValue]) throws -> Int {
        Self.changed(clearing: try run(statement, arguments))
    }

    /// Runs `statement` and the COMMIT after it in one round trip (see ``SQLSession``).
    /// - Returns: the statement's rows.
    /// - Throws: the statement's failure (the transaction stays open, failed) or the COMMIT's.
    @discardableResult
    func queryCommitting(_ statement: SQLStatement, _ arguments: [SQLValue]) throws -> [SQLRow] {
        rows(clearing: try runCommitting(statement, arguments), statement: statement.name)
    }

    /// ``queryCommitting(_:_:)`` for a data-changing statement.
    /// - Returns: the number of rows it changed.
    @discardableResult
    func executeCommitting(_ statement: SQLStatement, _ arguments: [SQLValue]) throws -> Int {
        Self.changed(clearing: try runCommitting(statement, arguments))
    }

    /// Runs semicolon-separated SQL text without parameters (a migration step) with `PQexec`.
    /// - Throws: `StoreError.postgres` named `name`.
    func executeScript(_ sql: String, name: String) throws {
        let conn = try connection()
        try collectQueued()
        PQclear(try checked(PQexec(conn, sql), name))
    }

    // MARK: - Queued statements

    /// Sends each command of `statement`'s PostgreSQL text (`;`-separated, no parameters) in
    /// pipeline mode without reading a result; the next ``run(_:_:)`` or ``collectQueued()``
    /// reads them. Commands this connection has not prepared yet are prepared first (a round
    /// trip the first time only): nothing is prepared inside a pipeline, so a failure there
    /// never leaves the set of prepared names in doubt.
    /// - Throws: `StoreError.postgres` for a command the server refused to prepare,
    ///   `StoreError.connect` when libpq cannot send.
    func queue(_ statement: SQLStatement) throws {
        let conn = try connection()
        let commands = statement.postgresCommands.enumerated().map { ("\(statement.name).\($0.offset)", $0.element) }
        for (name, command) in commands { try prepare(conn, name: name, sql: command) }
        guard PQenterPipelineMode(conn) == 1 else { throw StoreError.connect(url: url, message: lastError()) }
        for (name, _) in commands { try send(conn, name: name, []) }
    }

    /// Reads the results of the queued statements, leaves pipeline mode.
    /// - Throws: the first queued statement's failure, as `StoreError.postgres`.
    private func collectQueued() throws {
        guard !queued.isEmpty, let conn else { return }
        PQclear(try collect(conn))
    }

    /// After a failure: reads and drops whatever a pipeline still owes and leaves pipeline
    /// mode; when that does not work, resets the connection, which also ends its transaction.
    func abandonQueue() {
        queued.removeAll()
        guard let conn, PQpipelineStatus(conn) != PQ_PIPELINE_OFF else { return }
        if PQpipelineSync(conn) == 1 {
            // Results, the NULL after each, the sync (or two, if one was sent already).
            for _ in 0..<1_000 where PQstatus(conn) == CONNECTION_OK {
                if PQexitPipelineMode(conn) == 1 { return }
                if let result = PQgetResult(conn) { PQclear(result) }
            }
        }
        PQreset(conn)
        prepared.removeAll()
    }

    /// Prepares `sql` as `name` unless this connection has.
    private func prepare(_ conn: OpaquePointer, name: String, sql: String) throws {
        guard !prepared.contains(name) else { return }
        PQclear(try checked(PQprepare(conn, name, sql, 0, nil), name))
        prepared.insert(name)
    }

    /// Sends the prepared statement `name` in pipeline mode and notes its result is owed.
    private func send(_ conn: OpaquePointer, name: String, _ arguments: [SQLValue]) throws {
        let sent = Self.withParameters(arguments) { values in
            PQsendQueryPrepared(conn, name, Int32(values.count), values, nil, nil, 0)
        }
        guard sent == 1 else { throw StoreError.connect(url: url, message: lastError()) }
        queued.append(name)
    }

    /// Syncs the pipeline and reads one result per queued statement, then leaves pipeline mode.
    /// - Returns: the result of the statement at `kept` (default: the last); the caller clears it.
    /// - Throws: the first failure among them (`StoreError.postgres` named after its statement;
    ///   the ones after it were skipped by the server), `StoreError.connect`.
    private func collect(_ conn: OpaquePointer, keeping kept: Int? = nil) throws -> OpaquePointer {
        let names = queued
        queued.removeAll()
        let keep = kept ?? names.count - 1
        guard PQpipelineSync(conn) == 1 else { throw StoreError.connect(url: url, message: lastError()) }
        var failure: (any Error)?
        var last: OpaquePointer?
        var handedOver = false
        defer { if !handedOver, let last { PQclear(last) } }
        var index = 0
        var separators = 0
        // One result per statement, in order, a NULL after each, then the sync's own result.
        while true {
            guard let result = PQgetResult(conn) else {
                separators += 1
                // Two NULLs in a row: libpq has nothing more to give before the sync.
                guard separators == 1, PQstatus(conn) == CONNECTION_OK else {
                    throw StoreError.connect(url: url, message: lastError())
                }
                continue
            }
            separators = 0
            let status = PQresultStatus(result)
            if status == PGRES_PIPELINE_SYNC {
                PQclear(result)
                break
            }
            let name = index < names.count ? names[index] : "pipeline"
            let position = index
            index += 1
            if status == PGRES_PIPELINE_ABORTED {
                PQclear(result)
                continue
            }
            do {
                let good = try checked(result, name)
                if position == keep { last = good } else { PQclear(good) }
            } catch {
                if failure == nil { failure = error }
            }
        }
        guard PQexitPipelineMode(conn) == 1 else { throw failure ?? StoreError.connect(url: url, message: lastError()) }
        if let failure { throw failure }
        guard let result = last, index == names.count else {
            throw StoreError.connect(url: url, message: "the pipeline returned \(index) results for \(names.count) statements")
        }
        handedOver = true
        return result
    }

    // MARK: - C calls

    func connection() throws -> OpaquePointer {
        guard let conn else { throw StoreError.connect(url: url, message: "not connected") }
        return conn
    }

    /// `statement`, then COMMIT, sent together after whatever is queued; the statement's result.
    private func runCommitting(_ statement: SQLStatement, _ arguments: [SQLValue]) throws -> OpaquePointer {
        let result = try runPipelined([(statement, arguments), (Statements.commit, [])])
        committed = true
        return result
    }

    /// Sends `steps` after whatever is queued and reads every result with one sync (statements
    /// not yet prepared are prepared first, after the queued results are read).
    /// - Returns: the first step's result.
    private func runPipelined(_ steps: [(statement: SQLStatement, arguments: [SQLValue])]) throws -> OpaquePointer {
        let conn = try connection()
        for step in steps { try refuseAfterCommit(step.statement) }
        if !queued.isEmpty && !steps.allSatisfy({ prepared.contains($0.statement.name) }) { try collectQueued() }
        for step in steps { try prepare(conn, name: step.statement.name, sql: step.statement.postgresSQL) }
        if queued.isEmpty {
            guard PQenterPipelineMode(conn) == 1 else { throw StoreError.connect(url: url, message: lastError()) }
        }
        let first = queued.count
        for step in steps { try send(conn, name: step.statement.name, step.arguments) }
        return try collect(conn, keeping: first)
    }

    /// A statement after the transaction committed would run on its own, outside it: a bug.
    private func refuseAfterCommit(_ statement: SQLStatement) throws {
        guard committed else { return }
        throw StoreError.postgres(
            name: statement.name, sqlstate: "",
            message: "runs after its transaction's COMMIT was sent with the statement before it")
    }

    private func run(_ statement: SQLStatement, _ arguments: [SQLValue]) throws -> OpaquePointer {
        let conn = try connection()
        // After the queued commands (a transaction's opening), in the same round trip.
        if !queued.isEmpty { return try runPipelined([(statement, arguments)]) }
        try refuseAfterCommit(statement)
        try prepare(conn, name: statement.name, sql: statement.postgresSQL)
        let result = Self.withParameters(arguments) { values in
            PQexecPrepared(conn, statement.name, Int32(values.count), values, nil, nil, 0)
        }
        return try checked(result, statement.name)
    }

    /// Calls `body` with `arguments` as libpq text parameters (NULL for SQL NULL), valid during the call.
    private static func withParameters<T>(_ arguments: [SQLValue], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
        let copies: [UnsafeMutablePointer<CChar>?] = arguments.map { $0.postgresText.flatMap { strdup($0) } }
        defer { for copy in copies { free(copy) } }
        return body(copies.map { $0.map { UnsafePointer($0) } })
    }

    /// The result when it succeeded; otherwise clears it and throws.
    private func checked(_ result: OpaquePointer?, _ name: String) throws -> OpaquePointer {
        guard let result else { throw StoreError.connect(url: url, message: lastError()) }
        let status = PQresultStatus(result)
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK { return result }
        let sqlstate = cpostgres_sqlstate(result).map { String(cString: $0) } ?? ""
        let message = cpostgres_primary_message(result).map { String(cString: $0) } ?? lastError()
        PQclear(result)
        if sqlstate.isEmpty, let conn = conn, PQstatus(conn) != CONNECTION_OK {
            throw StoreError.connect(url: url, message: message)
        }
        throw StoreError.postgres(name: name, sqlstate: sqlstate, message: message)
    }

    func lastError() -> String {
        guard let conn = conn, let text = PQerrorMessage(conn) else { return "out of memory" }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The number of rows the statement of `result` changed; `result` is cleared.
    private static func changed(clearing result: OpaquePointer) -> Int {
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// The rows of `result` as ``SQLRow`` values; `result` is cleared.
    private func rows(clearing result: OpaquePointer, statement: String) -> [SQLRow] {
        defer { PQclear(result) }
        let columns = (0..<PQnfields(result)).map { column in
            (name: String(cString: PQfname(result, column)), type: PQftype(result, column))
        }
        return (0..<PQntuples(result)).map { row in
            var values: [String: SQLValue] = [:]
            for (index, column) in columns.enumerated() {
                let field = Int32(index)
                guard PQgetisnull(result, row, field) == 0 else {
                    values[column.name] = .null
                    continue
                }
                values[column.name] = Self.value(String(cString: PQgetvalue(result, row, field)), type: column.type)
            }
            return SQLRow(statement: statement, values: values)
        }
    }

    /// A column's text as the value its type OID stands for.
    private static func value(_ text: String, type: Oid) -> SQLValue {
        switch type {
        case 20, 21, 23, 26: return Int64(text).map(SQLValue.integer) ?? .text(text)  // int8, int2, int4, oid
        case 16: return .integer(text == "t" ? 1 : 0)  // bool
        case 700, 701: return Double(text).map(SQLValue.real) ?? .text(text)  // float4, float8
        default: return .text(text)
        }
    }
}

extension SQLStatement {
    /// The PostgreSQL text's commands, split at the `;` outside quotes (a transaction's opening
    /// such as ``Statements/beginClaim``: pipeline mode sends one command per message).
    fileprivate var postgresCommands: [String] {
        var commands: [String] = []
        var current = ""
        var quote: Character?
        for character in postgresSQL {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == ";" {
                commands.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        commands.append(current)
        return commands.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}

extension SQLValue {
    /// The value as a libpq text parameter; `nil` is SQL NULL.
    fileprivate var postgresText: String? {
        switch self {
        case .integer(let number): return String(number)
        case .real(let number): return String(number)
        case .text(let text): return text
        case .null: return nil
        }
    }
}
