/// The rows of the `settings` table, shared by every worker process.
public enum SettingKey: String, Sendable, CaseIterable {
    /// Rows in pulling/converting across all processes; a claim beyond it is refused.
    case maxInFlight = "max_in_flight"
    /// Claims before a row that keeps failing transiently (or crashing) is failed.
    case maxAttempts = "max_attempts"
    /// How long a claim lives without a heartbeat, in milliseconds.
    case leaseMilliseconds = "lease_ms"
}
