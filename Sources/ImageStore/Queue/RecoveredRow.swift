/// A row whose worker stopped heartbeating, as recovery left it.
public struct RecoveredRow: Sendable, Equatable, Codable {
    /// What recovery did with the row.
    public enum Outcome: String, Sendable, Equatable, Codable {
        /// Back to pending for another attempt.
        case requeued
        /// Attempts used up: failed with the reason in `error`.
        case failed
    }

    public let id: Int
    public let name: String
    /// pulling or converting: the stage the worker stopped in.
    public let stage: String
    public let workerID: String?
    public let attempts: Int
    public let outcome: Outcome
    /// The text written to the row's `error` column.
    public let message: String

    enum CodingKeys: String, CodingKey {
        case id, name, stage, attempts, outcome, message
        case workerID = "worker_id"
    }
}
