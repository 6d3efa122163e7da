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

    public var kind: ErrorKind {
        switch self {
        case .busy: return .transient(retryAfter: nil)
        case .statement(_, let code, _), .open(_, let code, _):
            return StoreError.isBusy(code: code) ? .transient(retryAfter: nil) : .permanent
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
