import Testing
@testable import ImageStore

@Suite struct SmokeTests {
    @Test("the blocking executor runs work off the cooperative pool") func executor() async throws {
        let value = try await BlockingExecutor.shared.run { 21 * 2 }
        #expect(value == 42)
    }
}
