/// A value bound to a statement parameter or read from a result column.
enum SQLValue: Sendable, Equatable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case null

    /// `.integer`, for the common case of a Swift `Int`.
    static func int(_ value: Int) -> SQLValue { .integer(Int64(value)) }

    /// `.text`, or `.null` for `nil`.
    static func optionalText(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }

    /// `.integer`, or `.null` for `nil`.
    static func optionalInt(_ value: Int?) -> SQLValue { value.map(SQLValue.int) ?? .null }
}

/// One result row, its values by column name.
struct SQLRow: Sendable {
    /// The statement that produced the row, named in errors.
    let statement: String
    let values: [String: SQLValue]

    /// The integer in `column`.
    /// - Throws: `StoreError.columnType` when the column is missing, NULL or not an integer.
    func int(_ column: String) throws -> Int {
        guard let value = try optionalInt(column) else {
            throw StoreError.columnType(statement: statement, column: column)
        }
        return value
    }

    /// The integer in `column`, `nil` for NULL.
    /// - Throws: `StoreError.columnType` when the column is missing or holds another type.
    func optionalInt(_ column: String) throws -> Int? {
        switch values[column] {
        case .integer(let value): return Int(value)
        case .null: return nil
        default: throw StoreError.columnType(statement: statement, column: column)
        }
    }

    /// The text in `column`.
    /// - Throws: `StoreError.columnType` when the column is missing, NULL or not text.
    func text(_ column: String) throws -> String {
        guard let value = try optionalText(column) else {
            throw StoreError.columnType(statement: statement, column: column)
        }
        return value
    }

    /// The text in `column`, `nil` for NULL.
    /// - Throws: `StoreError.columnType` when the column is missing or holds another type.
    func optionalText(_ column: String) throws -> String? {
        switch values[column] {
        case .text(let value): return value
        case .null: return nil
        default: throw StoreError.columnType(statement: statement, column: column)
        }
    }
}
