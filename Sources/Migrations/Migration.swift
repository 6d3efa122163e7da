/// One named step of schema history: SQL text only, never edited once merged.
public struct Migration: Sendable, Equatable {
    /// Stable identifier recorded in `schema_migrations`, e.g. `0001-create-images`.
    public let identifier: String
    /// Statements run in one `BEGIN IMMEDIATE` transaction.
    public let sql: String

    /// Creates a step.
    public init(_ identifier: String, sql: String) {
        self.identifier = identifier
        self.sql = sql
    }
}
