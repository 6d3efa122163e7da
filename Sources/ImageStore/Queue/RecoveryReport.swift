/// What one recovery pass did: the rows of dead workers and the leftovers of their builds.
public struct RecoveryReport: Sendable, Equatable, Codable {
    /// Rows whose worker stopped heartbeating (or held no valid lease), as recovery left them.
    public var rows: [RecoveredRow] = []
    /// Unfinished conversions (`artifacts` rows in `building`) whose builder no longer holds
    /// its row, dropped so another claim can start them.
    public var conversionsDropped = 0
    /// `build-<id>-<token>` scratch directories of claims no longer in flight, removed.
    public var scratchRemoved = 0
    /// Content-store temp files whose writer is gone (its flock is free), removed.
    public var tempFilesRemoved = 0
    /// Stale entries that could not be removed, each with its reason: logged by the worker,
    /// printed by `recover` and `gc` (exit 75), never dropped silently.
    public var cleanupFailures: [String] = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case rows
        case conversionsDropped = "conversions_dropped"
        case scratchRemoved = "scratch_removed"
        case tempFilesRemoved = "temp_files_removed"
        case cleanupFailures = "cleanup_failures"
    }
}
