/// How a ``Worker`` process behaves. Database-wide limits (max in flight, max attempts, lease
/// length) live in the `settings` table instead, so every process agrees on them.
public struct WorkerConfiguration: Sendable {
    /// Identifies this process in `images.worker_id`, e.g. `host:pid`.
    public var workerName: String
    /// Builds this process runs at once.
    public var concurrency: Int
    /// How often an idle slot tries to claim even when nothing was committed (rows whose
    /// backoff ran out).
    public var pollInterval: Duration
    /// How often an idle slot checks whether another process committed (`PRAGMA data_version`);
    /// a row inserted by anyone is claimed within about this long.
    public var wakeInterval: Duration
    /// How often expired leases are recovered and gauges refreshed.
    public var recoveryInterval: Duration
    /// Backoff after transient failures.
    public var retryPolicy: RetryPolicy
    /// A transient failure is retried after at least this long when a build is busy elsewhere.
    public var busyRetryDelay: Duration

    /// A configuration with defaults suited to one worker per core.
    public init(
        workerName: String, concurrency: Int = 1, pollInterval: Duration = .milliseconds(500),
        wakeInterval: Duration = .milliseconds(20),
        recoveryInterval: Duration = .seconds(10), retryPolicy: RetryPolicy = RetryPolicy(),
        busyRetryDelay: Duration = .seconds(1)
    ) {
        self.workerName = workerName
        self.concurrency = max(1, concurrency)
        self.pollInterval = pollInterval
        self.wakeInterval = wakeInterval
        self.recoveryInterval = recoveryInterval
        self.retryPolicy = retryPolicy
        self.busyRetryDelay = busyRetryDelay
    }
}
