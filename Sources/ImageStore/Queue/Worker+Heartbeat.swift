import Logging

extension Worker {
    /// Runs `body` while a sibling task heartbeats the lease and writes the progress of the
    /// current stage (layer bytes downloaded, then applied; at most once a second, only when it
    /// changed). A lost lease cancels `body`.
    ///
    /// The lease length comes back from every heartbeat (`lease_ms` as the database holds it
    /// now), and the next heartbeat is due a third of it later: lowering `lease_ms` while builds
    /// run shortens their heartbeat period from the next heartbeat on, before the shorter
    /// leases they now get could expire. A heartbeat or progress write that fails for another
    /// reason than a lost lease (the database busy, or its disk full) is logged and tried again
    /// on the next tick while the lease lasts, so it never replaces the build's own error.
    func withHeartbeat(_ claim: Claim, _ body: @escaping @Sendable (ProgressBox) async throws -> Outcome)
        async throws -> Outcome
    {
        let queue = manager.queue
        let initialLease = (try? await queue.setting(.leaseMilliseconds)) ?? SettingKey.leaseMilliseconds.defaultValue
        let progress = ProgressBox()
        let logger = logger
        return try await withThrowingTaskGroup(of: Outcome?.self) { group in
            group.addTask { try await body(progress) }
            group.addTask {
                var lease = initialLease
                var lastHeartbeat = ImageQueue.nowMilliseconds()
                var lastProgress = 0
                var reported = ProgressBox.Snapshot(stage: .pulling, done: -1, total: -1)
                var quietUntil = 0
                while true {
                    try await Task.sleep(for: .milliseconds(Self.heartbeatTickMilliseconds(lease: lease)))
                    let now = ImageQueue.nowMilliseconds()
                    guard now >= quietUntil else { continue }
                    do {
                        let current = progress.snapshot
                        if current != reported, current.total > 0, now - lastProgress >= 1_000 {
                            try await queue.recordProgress(
                                claim, stage: current.stage, bytesDone: current.done, bytesTotal: current.total,
                                now: nil)
                            reported = current
                            lastProgress = now
                        }
                        if now - lastHeartbeat >= lease / 3 {
                            lease = max(try await queue.heartbeat(claim), 1)
                            lastHeartbeat = now
                        }
                    } catch let error as QueueError {
                        throw error
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        // Try again soon, not on every tick: a full disk stays full for a while.
                        quietUntil = now + min(500, max(10, lease / 6))
                        logger.warning(
                            "heartbeat failed; trying again while the lease lasts",
                            metadata: ["id": "\(claim.id)", "error": "\(error)"])
                    }
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let outcome = result { return outcome }
            }
            throw CancellationError()
        }
    }

    /// How often the heartbeat task wakes: often enough for a third of the shortest lease,
    /// at most every 100 ms.
    static func heartbeatTickMilliseconds(lease: Int) -> Int {
        max(10, min(100, lease / 6))
    }

    /// Runs a write that records a build's outcome, retrying while SQLite reports the database
    /// busy, full or failing I/O (transient `StoreError`s): 5 tries over about 4 s. The build's
    /// scratch is already removed then, so space freed by it lets the record through; without
    /// the retries the row would sit in flight until its lease expired, its reason replaced by
    /// "stopped heartbeating".
    func recording<T>(_ log: Logger, _ write: () async throws -> T) async throws -> T {
        var delay = Duration.milliseconds(250)
        for _ in 1..<Self.recordAttempts {
            do {
                return try await write()
            } catch let error as StoreError where error.kind.isTransient {
                log.warning("could not record the outcome; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
                delay *= 2
            }
        }
        return try await write()
    }

    /// Tries of ``recording(_:_:)``.
    static let recordAttempts = 5
}
