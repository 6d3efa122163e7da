/// Host ids: what a fleet calls each host (`--host-id`), what a row is pinned to
/// (`images.target_host`) and whose data directory holds a disk (`artifacts.host`).
extension ImageQueue {
    /// The longest host id, in UTF-8 bytes (a DNS name is at most 253).
    public static let maximumHostLength = 255

    /// Refuses a host id a row could be pinned to but no worker could be named with.
    /// - Throws: `QueueError.invalidHost` for an empty id, one longer than
    ///   ``maximumHostLength`` bytes, or one holding whitespace or control characters.
    public static func validateTargetHost(_ host: String) throws(QueueError) {
        let acceptable =
            !host.isEmpty && host.utf8.count <= maximumHostLength
            && !host.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }
        guard acceptable else { throw QueueError.invalidHost(host) }
    }

    /// Rows this host may still have to build: pending or in flight, and pinned to nobody or
    /// to ``host``. Rows pinned to other hosts are theirs: `worker --exit-when-idle` stops when
    /// this is 0, however long another host's backlog is.
    /// - Throws: `StoreError`.
    public func outstandingCount() async throws -> Int {
        try await database.read { db in
            try db.query(Statements.outstandingForHost, [.text(host)]).first?.int("count") ?? 0
        }
    }

    /// The same queue, acting as host `host`: claims, shares and collects that host's work.
    /// - Throws: `QueueError.invalidHost` (``localHost`` is accepted).
    public func acting(asHost host: String) throws(QueueError) -> ImageQueue {
        if host != Self.localHost { try Self.validateTargetHost(host) }
        return ImageQueue(database: database, listener: listener, host: host)
    }
}
