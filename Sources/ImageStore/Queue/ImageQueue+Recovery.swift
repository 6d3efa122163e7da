extension ImageQueue {
    /// Returns rows whose worker stopped heartbeating to pending, or fails them once they
    /// used `max_attempts`, with the reason in `error`, e.g.
    /// "worker host:42:1 stopped heartbeating during pulling (attempt 5 of 5)". An in-flight row
    /// holding no lease a worker could have written (none, or one ending later than now plus
    /// the longest `lease_ms`: inserted by hand) is recovered the same way, so it cannot hold a
    /// `max_in_flight` slot forever.
    /// - Returns: what happened to each expired row.
    /// - Throws: `StoreError`.
    @discardableResult
    public func recoverInterruptedBuilds(now: Int? = nil) async throws -> [RecoveredRow] {
        let time = time(now)
        return try await database.write { db in
            let maxAttempts = try Self.setting(.maxAttempts, db)
            return try db.query(Statements.expiredLeases, [time, .int(SettingKey.longestLeaseMilliseconds)]).map { row in
                let id = try row.int("id")
                let token = try row.int("lease_token")
                let attempts = try row.int("attempts")
                let stage = try row.text("status")
                let workerID = try row.optionalText("worker_id")
                let what = try row.int("expired") == 1 ? "stopped heartbeating" : "holds no valid lease"
                let message =
                    "worker \(workerID ?? "unknown") \(what) during \(stage) (attempt \(attempts) of \(maxAttempts))"
                // The clock the query used, so every row of this pass is judged at one time.
                let fence: [SQLValue] = [.int(id), .int(token), .int(try row.int("now"))]
                let outcome: RecoveredRow.Outcome
                if attempts >= maxAttempts {
                    try db.execute(Statements.fail, fence + [.text(message), .text("transient")])
                    outcome = .failed
                } else {
                    try db.query(Statements.requeue, fence + [.text(message), .int(0)])
                    outcome = .requeued
                }
                return RecoveredRow(
                    id: id, name: try row.text("name"), stage: stage, workerID: workerID, attempts: attempts,
                    outcome: outcome, message: message)
            }
        }
    }

    /// Puts failed rows matching `reference` (name, normalized name or digest) back to
    /// pending with their attempts reset.
    /// - Returns: the number of rows requeued.
    /// - Throws: `QueueError.notFound`, `QueueError.notFailed`, `StoreError`.
    @discardableResult
    public func retry(_ reference: String, now: Int? = nil) async throws -> Int {
        let time = time(now)
        return try await database.write { db in
            let changed = try db.execute(Statements.retryFailed, [time, .text(reference)])
            if changed > 0 { return changed }
            let rows = try db.query(Statements.imagesMatching, [.text(reference)])
            throw rows.isEmpty ? QueueError.notFound(reference: reference) : QueueError.notFailed(reference: reference)
        }
    }
}
