/// Exponential backoff with jitter for transient failures. Pure: takes values, reads no clock.
public struct RetryPolicy: Sendable, Equatable {
    /// Delay after the first attempt, in milliseconds.
    public var baseMilliseconds: Int
    /// Upper bound of any delay, in milliseconds.
    public var maxMilliseconds: Int
    /// Fraction of the delay that jitter may add or remove (0.2: ±20 %).
    public var jitter: Double

    /// Defaults: 2 s doubling to at most 5 min, ±20 % jitter.
    public init(baseMilliseconds: Int = 2_000, maxMilliseconds: Int = 300_000, jitter: Double = 0.2) {
        self.baseMilliseconds = baseMilliseconds
        self.maxMilliseconds = maxMilliseconds
        self.jitter = jitter
    }

    /// The delay before the next attempt.
    /// - Parameters:
    ///   - attempt: attempts made so far (1 after the first).
    ///   - retryAfterMilliseconds: a server's Retry-After; the delay is never shorter.
    ///   - random: a value in 0...1 (0.5 means no jitter); tests pass a fixed one.
    /// - Returns: milliseconds to wait, within 0...maxMilliseconds (a longer Retry-After is capped).
    public func delay(afterAttempt attempt: Int, retryAfterMilliseconds: Int? = nil, random: Double) -> Int {
        let exponent = min(max(attempt - 1, 0), 30)
        let plain = min(Double(baseMilliseconds) * Double(1 << exponent), Double(maxMilliseconds))
        let factor = 1 + jitter * (min(max(random, 0), 1) * 2 - 1)
        let jittered = Int(min(plain * factor, Double(maxMilliseconds)))
        // A server's Retry-After never pushes past the ceiling (nor below zero).
        return max(jittered, min(max(retryAfterMilliseconds ?? 0, 0), maxMilliseconds))
    }
}
