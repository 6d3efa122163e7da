/// The rows of the `settings` table, shared by every worker process.
public enum SettingKey: String, Sendable, CaseIterable {
    /// Rows in pulling/converting across all processes; a claim beyond it is refused.
    case maxInFlight = "max_in_flight"
    /// Claims before a row that keeps failing transiently (or crashing) is failed.
    case maxAttempts = "max_attempts"
    /// How long a claim lives without a heartbeat, in milliseconds.
    case leaseMilliseconds = "lease_ms"

    /// The value schema.sql inserts, used when the row is missing (deleted by hand).
    public var defaultValue: Int {
        switch self {
        case .maxInFlight: return 4
        case .maxAttempts: return 5
        case .leaseMilliseconds: return 60_000
        }
    }

    /// The values the schema's CHECK accepts (`settings.value_in_range_for_key`).
    public var validRange: ClosedRange<Int> {
        switch self {
        case .maxInFlight: return 0...1_000_000
        case .maxAttempts: return 1...1_000_000
        case .leaseMilliseconds: return 100...SettingKey.longestLeaseMilliseconds
        }
    }

    /// The longest `lease_ms` the schema accepts (7 days): no live worker's lease ends later
    /// than now plus this, so a lease further ahead was written by hand and is recovered.
    public static let longestLeaseMilliseconds = 604_800_000
}
