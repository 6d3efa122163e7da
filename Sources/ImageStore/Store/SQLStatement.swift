/// One SQL statement with the name errors and the statement cache use.
///
/// Every instance lives in ``Statements``; no SQL text is written anywhere else.
struct SQLStatement: Sendable, Hashable {
    /// Short stable name, e.g. `claimNext`: the cache key and the subject of a `StoreError`.
    let name: String
    let sql: String
}
