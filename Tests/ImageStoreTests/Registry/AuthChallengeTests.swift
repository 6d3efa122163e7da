import Foundation
import Testing

@testable import ImageStore

@Suite("WWW-Authenticate parsing")
struct AuthChallengeTests {
    @Test("parses a Bearer challenge with quoted parameters")
    func bearer() throws {
        let header = #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#
        let challenge = try #require(AuthChallenge(header: header))
        #expect(challenge.scheme == "bearer")
        #expect(challenge.parameters["realm"] == "https://auth.docker.io/token")
        #expect(challenge.parameters["service"] == "registry.docker.io")
        #expect(challenge.parameters["scope"] == "repository:library/alpine:pull")
    }

    @Test("keeps commas inside quoted values and unescapes quotes")
    func commasAndEscapes() throws {
        let header = #"Bearer realm="http://127.0.0.1:1/token", scope="repository:a/b:pull,push",error="say \"hi\"""#
        let challenge = try #require(AuthChallenge(header: header))
        #expect(challenge.parameters["scope"] == "repository:a/b:pull,push")
        #expect(challenge.parameters["error"] == #"say "hi""#)
    }

    @Test("parses Basic with and without parameters")
    func basic() throws {
        #expect(try #require(AuthChallenge(header: #"Basic realm="Registry Realm""#)).scheme == "basic")
        #expect(try #require(AuthChallenge(header: "Basic")).parameters.isEmpty)
        #expect(AuthChallenge(header: "   ") == nil)
    }
}
