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
    public func recoverInterruptedBuilds(now: Int) async throws -> [RecoveredRow] {
        try await connection.write { db in
            let maxAttempts = try Self.setting(.maxAttempts, db)
            let latest = now.addingReportingOverflow(SettingKey.longestLeaseMilliseconds)
            let bound = latest.overflow ? Int.max : latest.partialValue
            return try db.query(Statements.expiredLeases, [.int(now), .int(bound)]).map { row in
                let id = try row.int("id")
                let token = try row.int("lease_token")
                let attempts = try row.int("attempts")
                let stage = try row.text("status")
                let workerID = try row.optionalText("worker_id")
                let expires = try row.optionalInt("lease_expires_at")
                let what = expires.map { $0 < now } ?? false ? "stopped heartbeating" : "holds no valid lease"
                let message =
                    "worker \(workerID ?? "unknown") \(what) during \(stage) (attempt \(attempts) of \(maxAttempts))"
                let fence: [SQLValue] = [.int(id), .int(token), .int(now)]
                let outcome: RecoveredRow.Outcome
                if attempts >= maxAttempts {
                    try db.execute(Statements.fail, fence + [.text(message), .text("transient")])
                    outcome = .failed
                } else {
                    try db.execute(Statements.requeue, fence + [.text(message), .int(now)])
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
    public func retry(_ reference: String, now: Int) async throws -> Int {
        try await connection.write { db in
            let changed = try db.execute(Statements.retryFailed, [.int(now), .text(reference)])
            if changed > 0 { return changed }
            let rows = try db.query(Statements.imagesMatching, [.text(reference)])
            throw rows.isEmpty ? QueueError.notFound(reference: reference) : QueueError.notFailed(reference: reference)
        }
    }
}
