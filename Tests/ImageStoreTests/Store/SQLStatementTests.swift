import Testing

@testable import ImageStore

@Suite struct SQLStatementTests {
    @Test("the PostgreSQL text numbers parameters with $, outside quotes only")
    func placeholders() {
        let statement = SQLStatement(name: "t", sql: "SELECT ?1, '?2', \"a?3\" FROM x WHERE y = ?12")
        #expect(statement.postgresSQL == "SELECT $1, '?2', \"a?3\" FROM x WHERE y = $12")
    }

    @Test("the clock parameter falls back to the server's now() in every place, and only that parameter")
    func clock() {
        let statement = SQLStatement(name: "t", sql: "UPDATE t SET a = ?3, b = ?3 + ?30, c = ?2", clock: 3)
        let now = "coalesce($3::bigint, \(SQLStatement.postgresNow))"
        #expect(statement.postgresSQL == "UPDATE t SET a = \(now), b = \(now) + $30, c = $2")
        #expect(statement.sql == "UPDATE t SET a = ?3, b = ?3 + ?30, c = ?2")
    }

    @Test(
        "postgres:// and postgresql:// select PostgreSQL, anything else is a SQLite path",
        arguments: [
            ("postgres://u@h/db", true), ("postgresql://u@h:5/db?sslmode=disable", true), ("POSTGRES://h/d", true),
            ("/var/lib/image-worker/image-worker.db", false), ("postgres:", false), ("./postgres.db", false),
        ])
    func location(text: String, isPostgres: Bool) {
        let location = DatabaseLocation(text)
        #expect((location == .postgres(url: text)) == isPostgres)
        #expect((location == .sqlite(path: text)) == !isPostgres)
    }

    @Test("a URL is shown with its password redacted, in the user part and in the query")
    func redaction() {
        #expect(DatabaseLocation("postgres://iw:s3cret@db:5432/q").description == "postgres://iw:***@db:5432/q")
        #expect(
            DatabaseLocation("postgresql://db/q?user=iw&password=s3cret").description
                == "postgresql://db/q?user=iw&password=***")
        #expect(DatabaseLocation("postgres://iw@db/q").description == "postgres://iw@db/q")
    }
}
