/// A SQLite call failed.
public enum StoreError: ClassifiedError, Equatable {
    /// `sqlite3_open_v2` refused `path`.
    case open(path: String, code: Int, message: String)
    /// A statement failed with an extended result code and `sqlite3_errmsg`.
    case statement(name: String, code: Int, message: String)
    /// The write lock stayed taken through `busy_timeout` on every one of `attempts` tries.
    case busy(name: String, code: Int, message: String, attempts: Int)
    /// A column held a type (or NULL) the reader did not expect.
    case columnType(statement: String, column: String)

    /// SQLITE_BUSY and SQLITE_LOCKED, including their extended codes.
    static func isBusy(code: Int) -> Bool {
        let primary = code & 0xff
        return primary == 5 || primary == 6
    }

    /// A constraint, datatype mismatch, too-big or range error: the statement's row is at fault,
    /// not the database, so retrying the same statement fails the same way.
    var isRowProblem: Bool {
        guard case .statement(_, let code, _) = self else { return false }
        return [18, 19, 20, 25].contains(code & 0xff)
    }

    /// SQLITE_FULL (disk or quota full) and SQLITE_IOERR: the database could not write now; it
    /// may once space is freed.
    static func isStorageTrouble(code: Int) -> Bool {
        let primary = code & 0xff
        return primary == 13 || primary == 10
    }

    /// SQLite's own message, without the statement name.
    var sqliteMessage: String {
        switch self {
        case .open(_, _, let message), .statement(_, _, let message), .busy(_, _, let message, _): return message
        case .columnType(_, let column): return "column \(column) has an unexpected type"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .busy: return .transient(retryAfter: nil)
        case .statement(_, let code, _), .open(_, let code, _):
            return StoreError.isBusy(code: code) || StoreError.isStorageTrouble(code: code)
                ? .transient(retryAfter: nil) : .permanent
        case .columnType: return .permanent
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
        }
    }
}
