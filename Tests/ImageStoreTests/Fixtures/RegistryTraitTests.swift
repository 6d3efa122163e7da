import Foundation
import TestSupport
import Testing

/// Proves `.registry(mode)`: one registry per suite, visible to each of its tests.
@Suite("Suite-scoped registry", .registry(.basicDefault))
struct RegistryTraitTests {
    @Test("the suite's registry is reachable and authenticated")
    func current() async throws {
        let registry = try #require(TestRegistry.current)
        #expect(registry.credentials?.user == "fixture")
        let authorization = try #require(try await registry.authorization(repository: "x"))
        let answer = try await CurlCLI.get(
            registry.baseURL.appendingPathComponent("v2/"), headers: ["Authorization: \(authorization)"])
        #expect(answer.status == 200)
    }

    @Test("a second test sees the same registry")
    func same() async throws {
        let registry = try #require(TestRegistry.current)
        let pushed = try await registry.push(
            layout: FixtureImages.layout("multiarch"), repository: "trait/multiarch", tag: "t")
        #expect(pushed == (try await FixtureImages.expected("multiarch")).indexDigest)
    }
}
