/// What one recovery pass did: the rows of dead workers and the leftovers of their builds.
public struct RecoveryReport: Sendable, Equatable, Codable {
    /// Rows whose worker stopped heartbeating (or held no valid lease), as recovery left them.
    public var rows: [RecoveredRow] = []
    /// Unfinished conversions (`artifacts` rows in `building`) whose builder no longer holds
    /// its row, dropped so another claim can start them.
    public var conversionsDropped = 0
    /// `build-<id>-<token>` scratch directories of claims no longer in flight, removed.
    public var scratchRemoved = 0
    /// Content-store temp files of downloads whose process is gone, removed.
    public var tempFilesRemoved = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case rows
        case conversionsDropped = "conversions_dropped"
        case scratchRemoved = "scratch_removed"
        case tempFilesRemoved = "temp_files_removed"
    }
}
