import Testing

@testable import ImageStore

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(baseMilliseconds: 1_000, maxMilliseconds: 10_000, jitter: 0.2)

    @Test(
        "delays double per attempt up to the cap",
        arguments: [(1, 1_000), (2, 2_000), (3, 4_000), (4, 8_000), (5, 10_000), (60, 10_000)])
    func doubling(attempt: Int, expected: Int) {
        #expect(policy.delay(afterAttempt: attempt, random: 0.5) == expected)
    }

    @Test("jitter stays within its fraction")
    func jitterBounds() {
        #expect(policy.delay(afterAttempt: 2, random: 0) == 1_600)
        #expect(policy.delay(afterAttempt: 2, random: 1) == 2_400)
    }

    @Test("Retry-After is a lower bound")
    func retryAfter() {
        #expect(policy.delay(afterAttempt: 1, retryAfterMilliseconds: 7_000, random: 0.5) == 7_000)
    }

    @Test(
        "Retry-After never pushes past the ceiling, whatever the server sent",
        arguments: [(30_000, 10_000), (Int.max, 10_000), (-5, 1_000), (Int.min, 1_000)])
    func retryAfterCapped(retryAfter: Int, expected: Int) {
        #expect(policy.delay(afterAttempt: 1, retryAfterMilliseconds: retryAfter, random: 0.5) == expected)
    }
}
