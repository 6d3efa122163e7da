/// A SQLite or PostgreSQL call failed.
public enum StoreError: ClassifiedError, Equatable {
    /// `sqlite3_open_v2` refused `path`.
    case open(path: String, code: Int, message: String)
    /// A statement failed with an extended result code and `sqlite3_errmsg`.
    case statement(name: String, code: Int, message: String)
    /// The write lock stayed taken through `busy_timeout` on every one of `attempts` tries.
    case busy(name: String, code: Int, message: String, attempts: Int)
    /// A column held a type (or NULL) the reader did not expect.
    case columnType(statement: String, column: String)
    /// libpq could not connect to (or lost) the server at `url` (password redacted).
    case connect(url: String, message: String)
    /// A PostgreSQL statement failed with a SQLSTATE and the server's message.
    case postgres(name: String, sqlstate: String, message: String)

    /// SQLITE_BUSY and SQLITE_LOCKED, including their extended codes.
    static func isBusy(code: Int) -> Bool {
        let primary = code & 0xff
        return primary == 5 || primary == 6
    }

    /// A constraint, datatype mismatch, too-big or range error: the statement's row is at fault,
    /// not the database, so retrying the same statement fails the same way.
    var isRowProblem: Bool {
        switch self {
        case .statement(_, let code, _): return [18, 19, 20, 25].contains(code & 0xff)
        // Class 22 data exception, class 23 integrity constraint violation.
        case .postgres(_, let sqlstate, _): return sqlstate.hasPrefix("22") || sqlstate.hasPrefix("23")
        default: return false
        }
    }

    /// SQLSTATE classes worth another try: 08 connection, 40 serialization failure or deadlock,
    /// 53 insufficient resources, 57 operator intervention (shutdown, cancel), 58 system error.
    static func isTransient(sqlstate: String) -> Bool {
        ["08", "40", "53", "57", "58"].contains(String(sqlstate.prefix(2)))
    }

    /// SQLITE_FULL (disk or quota full) and SQLITE_IOERR: the database could not write now; it
    /// may once space is freed.
    static func isStorageTrouble(code: Int) -> Bool {
        let primary = code & 0xff
        return primary == 13 || primary == 10
    }

    /// The database's own message, without the statement name.
    var databaseMessage: String {
        switch self {
        case .open(_, _, let message), .statement(_, _, let message), .busy(_, _, let message, _): return message
        case .columnType(_, let column): return "column \(column) has an unexpected type"
        case .connect(_, let message), .postgres(_, _, let message): return message
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .busy: return .transient(retryAfter: nil)
        case .statement(_, let code, _), .open(_, let code, _):
            return StoreError.isBusy(code: code) || StoreError.isStorageTrouble(code: code)
                ? .transient(retryAfter: nil) : .permanent
        case .columnType: return .permanent
        case .connect: return .transient(retryAfter: nil)
        case .postgres(_, let sqlstate, _): return StoreError.isTransient(sqlstate: sqlstate) ? .transient(retryAfter: nil) : .permanent
        }
    }

    public var description: String {
        switch self {
        case .open(let path, let code, let message):
            return
                "sqlite database \(path): open failed with code \(code) (\(message)); check the path and its permissions"
        case .statement(let name, let code, let message):
            return "sqlite statement \(name): failed with code \(code) (\(message)); check the database file and schema"
        case .busy(let name, let code, let message, let attempts):
            return
                "sqlite statement \(name): database stayed locked through \(attempts) attempts, code \(code) (\(message)); try again"
        case .columnType(let statement, let column):
            return
                "sqlite statement \(statement): column \(column) is missing or has an unexpected type; the schema may be newer than this binary"
        case .connect(let url, let message):
            return "postgresql \(url): connection failed (\(message)); check the URL, the server and its pg_hba.conf"
        case .postgres(let name, let sqlstate, let message):
            return "postgresql statement \(name): failed with SQLSTATE \(sqlstate) (\(message)); check the database and schema"
        }
    }
}
