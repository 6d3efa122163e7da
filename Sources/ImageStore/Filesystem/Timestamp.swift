/// A file time: seconds since the epoch (negative before 1970) and nanoseconds `0..<1e9`.
public struct Timestamp: Sendable, Equatable, Hashable, Comparable {
    public var seconds: Int64
    public var nanoseconds: UInt32

    /// The epoch, used where an entry carries no time.
    public static let epoch = Timestamp(seconds: 0, nanoseconds: 0)

    /// A time; `nanoseconds` outside `0..<1e9` is carried into `seconds`, so the value is normal.
    public init(seconds: Int64, nanoseconds: Int64 = 0) {
        let carry = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        var seconds = seconds.addingReportingOverflow(carry.quotient).partialValue
        var remainder = carry.remainder
        if remainder < 0 {
            remainder += 1_000_000_000
            seconds = seconds.subtractingReportingOverflow(1).partialValue
        }
        self.seconds = seconds
        self.nanoseconds = UInt32(remainder)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }
}
