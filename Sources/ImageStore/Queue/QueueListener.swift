import Synchronization

/// PostgreSQL: the connection an idle worker waits on for `NOTIFY image_worker_queue` (sent by
/// the schema's triggers when a row is inserted, released, requeued, retried or leaves
/// pulling/converting, and when settings change), so idle workers wake on a change instead of
/// polling the database.
///
/// One per queue, connected and `LISTEN`ing on first use. ``generation`` counts the waits
/// that ended with a notification; a caller remembers it before it looks for work and waits
/// only while it is unchanged, so when several claim slots wait on the one connection in turn,
/// a notification one slot consumed still wakes the others.
actor QueueListener {
    private let url: String
    private var connection: PostgresConnection?
    private nonisolated let counter = Atomic<Int>(0)

    init(url: String) {
        self.url = url
    }

    /// Notifications seen so far; read without waiting for a slot blocked in ``wait(beyond:timeout:)``.
    nonisolated var generation: Int { counter.load(ordering: .acquiring) }

    /// Returns at once when ``generation`` moved past `seen`; otherwise waits up to `timeout`
    /// for a notification.
    /// - Returns: whether something changed since `seen`.
    /// - Throws: `StoreError.connect` when the server cannot be reached (the caller polls).
    func wait(beyond seen: Int, timeout: Duration) async throws -> Bool {
        if generation != seen { return true }
        let connection = try await listening()
        do {
            if try await connection.waitForNotification(timeout: timeout) {
                counter.add(1, ordering: .releasing)
            }
        } catch {
            self.connection = nil
            throw error
        }
        return generation != seen
    }

    private func listening() async throws -> PostgresConnection {
        if let connection { return connection }
        let opened = try await PostgresConnection.open(url: url)
        try await opened.read { db in try db.execute(Statements.listenQueue) }
        connection = opened
        return opened
    }
}
