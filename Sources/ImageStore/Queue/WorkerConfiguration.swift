/// How a ``Worker`` process behaves. Database-wide limits (max in flight, max attempts, lease
/// length) live in the `settings` table instead, so every process agrees on them.
public struct WorkerConfiguration: Sendable {
    /// Identifies this process in `images.worker_id`, e.g. `host:pid`.
    public var workerName: String
    /// Builds this process runs at once.
    public var concurrency: Int
    /// How often an idle slot looks for new rows (rows inserted by other processes are seen
    /// within this interval).
    public var pollInterval: Duration
    /// How often expired leases are recovered and gauges refreshed.
    public var recoveryInterval: Duration
    /// Backoff after transient failures.
    public var retryPolicy: RetryPolicy
    /// A transient failure is retried after at least this long when a build is busy elsewhere.
    public var busyRetryDelay: Duration

    /// A configuration with defaults suited to one worker per core.
    public init(
        workerName: String, concurrency: Int = 1, pollInterval: Duration = .milliseconds(500),
        recoveryInterval: Duration = .seconds(10), retryPolicy: RetryPolicy = RetryPolicy(),
        busyRetryDelay: Duration = .seconds(1)
    ) {
        self.workerName = workerName
        self.concurrency = max(1, concurrency)
        self.pollInterval = pollInterval
        self.recoveryInterval = recoveryInterval
        self.retryPolicy = retryPolicy
        self.busyRetryDelay = busyRetryDelay
    }
}
