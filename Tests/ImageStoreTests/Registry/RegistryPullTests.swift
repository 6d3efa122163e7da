import Foundation
import TestSupport
import Testing

@testable import ImageStore

@Suite("Pull from a real docker-registry")
struct RegistryPullTests {
    static let fixtures = [
        "multilayer", "multilayer-zstd", "multilayer-uncompressed", "multilayer-docker", "multiarch", "multiarch-docker",
    ]
    static let modes: [TestRegistry.Mode] = [.plain, .basicDefault, .tokenDefault, .tls]

    @Test("pulls every fixture variant in plain, Basic, token and TLS modes", arguments: modes, fixtures)
    func pullEveryVariant(mode: TestRegistry.Mode, fixture: String) async throws {
        let registry = try await SharedRegistries.shared.registry(mode)
        let repository = "pull-\(mode)/\(fixture)"
        try await registry.push(layout: FixtureImages.layout(fixture), repository: repository, tag: "v1")
        let expected = try ExpectedDigests(try await FixtureImages.expected(fixture))
        let scratch = try TemporaryDirectory(prefix: "pull")
        defer { scratch.remove() }
        let store = try ContentStore(root: scratch.url.appendingPathComponent("oci"))
        let puller = ImagePuller(client: RegistryClient(configuration: try registryConfiguration(for: registry)), store: store)
        let reference = try ImageReference(parsing: registry.reference(repository: repository, tag: "v1"))

        let image = try await puller.pull(reference, platform: Platform(os: "linux", architecture: "amd64"))

        #expect(image.indexDigest?.description == expected.index)
        #expect(image.manifestDigest.description == expected.manifest)
        #expect(image.manifest.config.digest.description == expected.config)
        #expect(image.layers.map(\.descriptor.digest.description) == expected.layers)
        #expect(image.platform.architecture == "amd64")
        try await expectStoreHolds(image, in: store)
        let names = try store.indexEntries().compactMap { $0.annotations?[ContentStore.refNameAnnotation] }
        #expect(names == [reference.description])
    }

    @Test("the token server issues one token per scope, not one per blob")
    func oneTokenPerScope() async throws {
        // A registry of its own: parallel tests would take tokens from a shared one.
        let registry = try await TestRegistry.start(.tokenDefault)
        defer { Task { await registry.stop() } }
        try await registry.push(layout: FixtureImages.layout("multilayer"), repository: "tokens/once", tag: "v1")
        let statsURL = try #require(registry.tokenStatsURL)
        struct Stats: Decodable {
            var tokensIssued: Int
            var scopes: [String]
        }
        let before = try JSONDecoder().decode(Stats.self, from: try await CurlCLI.get(statsURL).body)
        let scratch = try TemporaryDirectory(prefix: "tokens")
        defer { scratch.remove() }
        let store = try ContentStore(root: scratch.url)
        let puller = ImagePuller(client: RegistryClient(configuration: try registryConfiguration(for: registry)), store: store)

        let image = try await puller.pull(try ImageReference(parsing: registry.reference(repository: "tokens/once", tag: "v1")))

        let after = try JSONDecoder().decode(Stats.self, from: try await CurlCLI.get(statsURL).body)
        #expect(image.downloadedBlobs >= 4)
        #expect(after.tokensIssued - before.tokensIssued == 1)
        #expect(after.scopes.suffix(1) == ["repository:tokens/once:pull"])
    }

    @Test("without credentials a Basic registry answers unauthorized, a permanent error")
    func unauthorized() async throws {
        let registry = try await SharedRegistries.shared.registry(.basicDefault)
        try await registry.push(layout: FixtureImages.layout("multilayer"), repository: "auth/denied", tag: "v1")
        let scratch = try TemporaryDirectory(prefix: "noauth")
        defer { scratch.remove() }
        let client = RegistryClient(configuration: faultConfiguration())
        let reference = try ImageReference(parsing: registry.reference(repository: "auth/denied", tag: "v1"))
        await #expect(throws: RegistryError.unauthorized(registry: registry.hostPort, scope: "repository:auth/denied:pull")) {
            try await client.resolve(reference)
        }
    }

    @Test("an unknown tag is manifestUnknown and a platform the index lacks lists what it has")
    func unknowns() async throws {
        let registry = try await SharedRegistries.shared.registry(.plain)
        try await registry.push(layout: FixtureImages.layout("multiarch"), repository: "unknown/ma", tag: "v1")
        let scratch = try TemporaryDirectory(prefix: "unknown")
        defer { scratch.remove() }
        let puller = ImagePuller(client: RegistryClient(configuration: faultConfiguration()), store: try ContentStore(root: scratch.url))
        let missing = try ImageReference(parsing: registry.reference(repository: "unknown/ma", tag: "nope"))
        await #expect(throws: RegistryError.manifestUnknown(missing)) { try await puller.pull(missing) }
        let reference = try ImageReference(parsing: registry.reference(repository: "unknown/ma", tag: "v1"))
        do {
            _ = try await puller.pull(reference, platform: Platform(os: "linux", architecture: "s390x"))
            Issue.record("expected platformNotFound")
        } catch let error as RegistryError {
            guard case .platformNotFound(_, _, let available) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(available.contains(Platform(os: "linux", architecture: "amd64")))
            #expect(error.kind == .permanent)
        }
    }

    @Test("a TLS registry whose certificate the client cannot verify fails permanently, at once")
    func untrustedCertificate() async throws {
        let registry = try await SharedRegistries.shared.registry(.tls)
        var configuration = faultConfiguration()
        // HTTPS verified against the system store, which does not know the test CA.
        configuration.loopbackIsInsecure = false
        let reference = try ImageReference(parsing: registry.reference(repository: "tls/none", tag: "v1"))
        do {
            _ = try await RegistryClient(configuration: configuration).resolve(reference)
            Issue.record("expected a transport error")
        } catch let error as RegistryError {
            guard case .transport(_, let code, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(code == 60)
            #expect(error.kind == .permanent)
        }
    }
}
