/// One SQL statement with the name errors and the statement caches use, in both dialects.
///
/// Every instance lives in ``Statements``; no SQL text is written anywhere else. `sql` is the
/// SQLite text, numbered parameters `?1`, `?2`…; `postgresSQL` the PostgreSQL text, `$1`,
/// `$2`… for the same values in the same order. Most statements are written once: the
/// PostgreSQL text is then the SQLite text with `?N` turned into `$N` (outside quotes). A
/// statement whose dialects differ spells both.
///
/// `clock` names the parameter that carries "now" (milliseconds since the epoch). SQLite
/// always gets a number there; in the PostgreSQL text every `$clock` becomes
/// `coalesce($clock::bigint, <now() in milliseconds>)`, so a NULL bound there means the
/// server's clock (see ``ImageQueue``).
struct SQLStatement: Sendable, Hashable {
    /// Short stable name, e.g. `claimNext`: the cache key and the subject of a `StoreError`.
    let name: String
    /// The SQLite text.
    let sql: String
    /// The PostgreSQL text.
    let postgresSQL: String

    /// A statement; `postgres` is its own PostgreSQL text (with `$N` placeholders) when the
    /// dialects differ, else the SQLite text is used with `?N` turned into `$N`.
    init(name: String, sql: String, postgres: String? = nil, clock: Int? = nil) {
        self.name = name
        self.sql = sql
        let text = postgres ?? Self.dollarPlaceholders(sql)
        self.postgresSQL = clock.map { Self.databaseClock(text, parameter: $0) } ?? text
    }

    /// The server's clock in the schema's unit: milliseconds since the epoch, from `now()`
    /// (the start of the transaction).
    static let postgresNow = "(extract(epoch FROM now()) * 1000)::bigint"

    /// `text` with every `$parameter` (not followed by a digit) turned into
    /// `coalesce($parameter::bigint, now in milliseconds)`.
    static func databaseClock(_ text: String, parameter: Int) -> String {
        let token = "$\(parameter)"
        var result = ""
        var rest = Substring(text)
        while let range = rest.range(of: token) {
            result += rest[..<range.lowerBound]
            let after = rest[range.upperBound...]
            if let next = after.first, next.isNumber {
                result += token
            } else {
                result += "coalesce(\(token)::bigint, \(postgresNow))"
            }
            rest = after
        }
        return result + rest
    }

    /// A statement only PostgreSQL runs (advisory locks, LISTEN).
    init(name: String, postgres: String) {
        self.init(name: name, sql: "SELECT 'postgres only'", postgres: postgres)
    }

    /// `sql` with every `?N` outside string literals and quoted names turned into `$N`.
    static func dollarPlaceholders(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.utf8.count)
        var quote: Character?
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                result.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                result.append(character)
            } else if character == "?" {
                result.append("$")
            } else {
                result.append(character)
            }
        }
        return result
    }
}
