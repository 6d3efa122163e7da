import Foundation

/// Failures of the test harness itself: a helper process that did not start, a command that failed.
public enum TestSupportError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A command exited non-zero.
    case commandFailed(command: String, status: Int32, stderrTail: String)
    /// A background helper did not write its info file before the deadline.
    case notReady(helper: String, logTail: String)
    /// A helper's output could not be decoded.
    case badOutput(helper: String, detail: String)

    public var description: String {
        switch self {
        case .commandFailed(let command, let status, let stderrTail):
            return "test harness: \(command) exited with status \(status): \(stderrTail)"
        case .notReady(let helper, let logTail):
            return "test harness: \(helper) did not become ready; its log ends with: \(logTail)"
        case .badOutput(let helper, let detail):
            return "test harness: \(helper) printed something unexpected: \(detail)"
        }
    }
}
