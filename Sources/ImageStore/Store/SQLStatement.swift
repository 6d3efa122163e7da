/// One SQL statement with the name errors and the statement caches use, in both dialects.
///
/// Every instance lives in ``Statements``; no SQL text is written anywhere else. `sql` is the
/// SQLite text, numbered parameters `?1`, `?2`…; `postgresSQL` the PostgreSQL text, `$1`,
/// `$2`… for the same values in the same order. Most statements are written once: the
/// PostgreSQL text is then the SQLite text with `?N` turned into `$N` (outside quotes). A
/// statement whose dialects differ spells both.
struct SQLStatement: Sendable, Hashable {
    /// Short stable name, e.g. `claimNext`: the cache key and the subject of a `StoreError`.
    let name: String
    /// The SQLite text.
    let sql: String
    /// The PostgreSQL text.
    let postgresSQL: String

    /// A statement both databases run as written (placeholders aside).
    init(name: String, sql: String) {
        self.name = name
        self.sql = sql
        self.postgresSQL = Self.dollarPlaceholders(sql)
    }

    /// A statement with its own PostgreSQL text, already using `$N` placeholders.
    init(name: String, sql: String, postgres: String) {
        self.name = name
        self.sql = sql
        self.postgresSQL = postgres
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
