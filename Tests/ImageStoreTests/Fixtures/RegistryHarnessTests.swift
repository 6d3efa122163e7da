import Foundation
import TestSupport
import Testing

/// Proves the real-registry harness: what push(layout:) uploads comes back byte for byte.
@Suite("Test registry harness")
struct RegistryHarnessTests {
    static let modes: [TestRegistry.Mode] = [.plain, .basicDefault, .tokenDefault, .tls]

    @Test("a pushed fixture comes back byte for byte in every auth mode", arguments: modes)
    func pushAndFetch(mode: TestRegistry.Mode) async throws {
        let expected = try await FixtureImages.expected("multilayer")
        let registry = try await TestRegistry.start(mode)
        let repository = "fixtures/multilayer"

        let anonymous = try await CurlCLI.get(
            registry.baseURL.appendingPathComponent("v2/"), arguments: registry.curlArguments)
        #expect(anonymous.status == (registry.credentials == nil ? 200 : 401))

        let pushed = try await registry.push(
            layout: FixtureImages.layout("multilayer"), repository: repository, tag: "v1")
        #expect(pushed == expected.manifestDigest)

        let tokensBefore = try await registry.tokensIssued()
        let authorization = try await registry.authorization(repository: repository)
        let authHeaders = authorization.map { ["Authorization: \($0)"] } ?? []
        let manifest = try await CurlCLI.get(
            registry.baseURL.appendingPathComponent("v2/\(repository)/manifests/v1"),
            headers: authHeaders + [CurlCLI.manifestAccept], arguments: registry.curlArguments)
        #expect(manifest.status == 200)
        #expect(try await sha256(manifest.body) == expected.manifestDigest)
        #expect(manifest.headers["docker-content-digest"] == expected.manifestDigest)

        let blobs = [try #require(expected.configDigest)] + (expected.layerDigests ?? [])
        #expect(blobs.count == 4)
        for digest in blobs {
            let blob = try await CurlCLI.get(
                registry.baseURL.appendingPathComponent("v2/\(repository)/blobs/\(digest)"),
                headers: authHeaders, arguments: registry.curlArguments + ["-L"])
            #expect(blob.status == 200)
            #expect(try await sha256(blob.body) == digest)
        }
        if case .token = mode {
            // One token fetched for the whole pull, no matter how many blobs.
            #expect(try await registry.tokensIssued() == tokensBefore + 1)
        }

        await registry.stop()
        let afterStop = try await CurlCLI.get(
            registry.baseURL.appendingPathComponent("v2/"), arguments: registry.curlArguments)
        #expect(afterStop.exitCode != 0)
    }

    @Test("token mode refuses wrong credentials and unauthenticated blob reads")
    func tokenRefusals() async throws {
        let registry = try await SharedRegistries.shared.registry(.tokenDefault)
        let tokenURL = try #require(registry.tokenURL)
        let wrong = try await CurlCLI.get(tokenURL, arguments: ["-u", "fixture:wrong"])
        #expect(wrong.status == 401)
        let unauthenticated = try await CurlCLI.get(
            registry.baseURL.appendingPathComponent("v2/fixtures/none/manifests/latest"))
        #expect(unauthenticated.status == 401)
        #expect(unauthenticated.headers["www-authenticate"]?.hasPrefix("Bearer realm=") == true)
    }

    @Test(
        "compression and format variants are stored unchanged",
        arguments: ["multilayer-zstd", "multilayer-uncompressed", "multilayer-docker", "multiarch", "multiarch-docker"])
    func variants(name: String) async throws {
        let registry = try await SharedRegistries.shared.registry(.plain)
        let expected = try await FixtureImages.expected(name)
        let top = try #require(expected.indexDigest ?? expected.manifestDigest)
        let pushed = try await registry.push(
            layout: FixtureImages.layout(name), repository: "fixtures/\(name)", tag: "latest")
        #expect(pushed == top)

        let manifest = try await CurlCLI.get(
            registry.baseURL.appendingPathComponent("v2/fixtures/\(name)/manifests/latest"),
            headers: [CurlCLI.manifestAccept])
        #expect(try await sha256(manifest.body) == top)
        #expect(manifest.headers["content-type"] == expected.mediaType)
        for (_, platform) in expected.platforms ?? [:] {
            let child = try await CurlCLI.get(
                registry.baseURL.appendingPathComponent("v2/fixtures/\(name)/manifests/\(platform.manifestDigest)"),
                headers: [CurlCLI.manifestAccept])
            #expect(try await sha256(child.body) == platform.manifestDigest)
        }
    }

    @Test("skopeo reads what the harness pushed")
    func skopeoInspect() async throws {
        let registry = try await SharedRegistries.shared.registry(.plain)
        let expected = try await FixtureImages.expected("multilayer")
        try await registry.push(layout: FixtureImages.layout("multilayer"), repository: "fixtures/skopeo", tag: "s1")
        let raw = try await ProcessRunner.check(
            "skopeo", ["inspect", "--tls-verify=false", "--raw",
                       "docker://" + registry.reference(repository: "fixtures/skopeo", tag: "s1")])
        #expect(try await sha256(raw.stdout) == expected.manifestDigest)
    }
}

/// "sha256:<hex>" of `data`, by the sha256sum CLI.
func sha256(_ data: Data) async throws -> String {
    let scratch = try TemporaryDirectory(prefix: "digest")
    defer { scratch.remove() }
    let file = scratch.url.appendingPathComponent("data")
    try data.write(to: file)
    return "sha256:" + (try await ProcessRunner.sha256(of: file))
}
