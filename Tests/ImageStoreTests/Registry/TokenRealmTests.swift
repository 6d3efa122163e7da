import Foundation
import Testing

@testable import ImageStore

/// The realm of a Bearer challenge is chosen by the registry: only http(s), https from a TLS
/// registry, and never cleartext credentials to another host.
@Suite("Token realm checks")
struct TokenRealmTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var registry: String
        var realm: String
        var credentials: Bool
        /// A word of the refusal reason, nil when the realm is accepted.
        var refusal: String?
        var testDescription: String { "\(registry) → \(realm)\(credentials ? " with credentials" : "")" }
    }

    static let cases: [Case] = [
        Case(registry: "127.0.0.1:5000", realm: "gopher://127.0.0.1:6379/_SET%20x%201%0D%0A", credentials: false, refusal: "gopher"),
        Case(registry: "127.0.0.1:5000", realm: "file:///etc/passwd", credentials: false, refusal: "file"),
        Case(registry: "127.0.0.1:5000", realm: "dict://127.0.0.1:11211/stat", credentials: false, refusal: "dict"),
        Case(registry: "127.0.0.1:5000", realm: "ftp://127.0.0.1/token", credentials: false, refusal: "ftp"),
        Case(registry: "127.0.0.1:5000", realm: "/token", credentials: false, refusal: "absolute"),
        Case(registry: "127.0.0.1:5000", realm: "http:///token", credentials: false, refusal: "host"),
        Case(registry: "127.0.0.1:5000", realm: "http://localhost:5001/token", credentials: true, refusal: "clear text"),
        Case(registry: "127.0.0.1:5000", realm: "http://other.example/token", credentials: true, refusal: "clear text"),
        Case(registry: "127.0.0.1:5000", realm: "http://other.example/token", credentials: false, refusal: nil),
        Case(registry: "127.0.0.1:5000", realm: "http://127.0.0.1:5001/token", credentials: true, refusal: nil),
        Case(registry: "127.0.0.1:5000", realm: "https://auth.example/token", credentials: true, refusal: nil),
        Case(registry: "registry.example.com", realm: "http://registry.example.com/token", credentials: false, refusal: "must be https"),
        Case(registry: "registry.example.com", realm: "http://auth.example.com/token", credentials: true, refusal: "must be https"),
        Case(registry: "registry.example.com", realm: "https://auth.example.com/token?x=1", credentials: true, refusal: nil),
        Case(registry: "registry.example.com", realm: "HTTPS://Auth.Example.com/token", credentials: true, refusal: nil),
        Case(registry: "docker.io", realm: "https://auth.docker.io/token", credentials: true, refusal: nil),
    ]

    @Test("realms are accepted or refused by scheme, host and credentials", arguments: cases)
    func realm(_ testCase: Case) throws {
        let client = RegistryClient()
        let reference = try ImageReference(parsing: "\(testCase.registry)/a/b:1")
        do {
            let components = try client.checkedRealm(
                testCase.realm, reference: reference, sendsCredentials: testCase.credentials)
            #expect(testCase.refusal == nil, "accepted \(components)")
        } catch {
            let refusal = try #require(testCase.refusal, "refused: \(error)")
            guard case .refusedRealm(let registry, let realm, let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(registry == reference.registry && realm == testCase.realm)
            #expect(reason.contains(refusal), "\(reason)")
            #expect(error.kind == .permanent)
            #expect(error.description.contains(testCase.realm))
        }
    }

    @Test("transfers of an https registry may use https only; an insecure one http and https")
    func protocols() {
        let configuration = RegistryConfiguration()
        #expect(configuration.transferOptions(for: "registry.example.com").protocols == "https")
        #expect(configuration.transferOptions(for: "127.0.0.1:5000").protocols == "http,https")
    }
}
