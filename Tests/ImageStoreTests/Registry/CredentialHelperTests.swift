import Foundation
import TestSupport
import Testing

@testable import ImageStore

/// `credsStore` and `credHelpers` of the Docker config run `docker-credential-<name> get`
/// (Tests/Fixtures/docker-credential-fixture) against a real Basic-auth docker-registry.
@Suite("Docker credential helpers")
final class CredentialHelperTests {
    let scratch: TemporaryDirectory
    let bin: URL

    init() throws {
        scratch = try TemporaryDirectory(prefix: "credhelper")
        bin = scratch.url.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: FixtureImages.fixturesDirectory.appendingPathComponent("docker-credential-fixture"),
            to: bin.appendingPathComponent("docker-credential-fixture"))
    }

    deinit { scratch.remove() }

    /// Writes config.json and the helper's store, then loads the config as the worker would.
    func credentials(config: String, store: [String: [String: String]]) throws -> DockerCredentials {
        try Data(config.utf8).write(to: scratch.url.appendingPathComponent("config.json"))
        try JSONEncoder().encode(store).write(to: bin.appendingPathComponent("store.json"))
        return try DockerCredentials.load(environment: ["DOCKER_CONFIG": scratch.url.path, "PATH": bin.path])
    }

    func pull(_ registry: TestRegistry, _ credentials: DockerCredentials, repository: String) async throws
        -> PulledImage
    {
        try await registry.push(layout: FixtureImages.layout("multilayer"), repository: repository, tag: "v1")
        var configuration = RegistryConfiguration()
        configuration.credentials = credentials
        let store = try ContentStore(root: scratch.url.appendingPathComponent("oci"))
        let puller = ImagePuller(client: RegistryClient(configuration: configuration), store: store)
        return try await puller.pull(try ImageReference(parsing: registry.reference(repository: repository, tag: "v1")))
    }

    var calls: [String] {
        let text = (try? String(contentsOf: bin.appendingPathComponent("calls.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    @Test("credHelpers names the helper of one registry; it gets `get` and the host on stdin")
    func credHelpers() async throws {
        let registry = try await SharedRegistries.shared.registry(.basicDefault)
        let login = try #require(registry.credentials)
        let credentials = try credentials(
            config: #"{"auths": {}, "credHelpers": {"\#(registry.hostPort)": "fixture"}}"#,
            store: [registry.hostPort: ["Username": login.user, "Secret": login.password]])
        let image = try await pull(registry, credentials, repository: "credhelper/one")
        #expect(image.downloadedBlobs >= 4)
        #expect(calls.first == "get\t\(registry.hostPort)")
    }

    @Test("credsStore is the helper of every registry")
    func credsStore() async throws {
        let registry = try await SharedRegistries.shared.registry(.basicDefault)
        let login = try #require(registry.credentials)
        let credentials = try credentials(
            config: #"{"credsStore": "fixture"}"#,
            store: [registry.hostPort: ["Username": login.user, "Secret": login.password]])
        _ = try await pull(registry, credentials, repository: "credhelper/store")
        #expect(calls.contains("get\t\(registry.hostPort)"))
    }

    @Test("a helper without a credential for the registry falls back to the auths entry")
    func notFoundFallsBack() async throws {
        let registry = try await SharedRegistries.shared.registry(.basicDefault)
        let login = try #require(registry.credentials)
        let credentials = try credentials(
            config: #"{"credsStore": "fixture", "auths": {"\#(registry.hostPort)": {"username": "\#(login.user)", "password": "\#(login.password)"}}}"#,
            store: [:])
        _ = try await pull(registry, credentials, repository: "credhelper/fallback")
        #expect(calls.contains("get\t\(registry.hostPort)"))
    }

    @Test("a missing or failing helper is a permanent error naming it, without the secret")
    func failures() async throws {
        let registry = try await SharedRegistries.shared.registry(.basicDefault)
        let missing = try credentials(config: #"{"credsStore": "absent"}"#, store: [:])
        await #expect(throws: RegistryError.self) { _ = try await missing.credential(for: registry.hostPort) }
        do {
            _ = try await missing.credential(for: registry.hostPort)
        } catch {
            #expect(error.description.contains("docker-credential-absent is not on PATH"))
            #expect(error.kind == .permanent)
        }
        let failing = try credentials(
            config: #"{"credHelpers": {"\#(registry.hostPort)": "fixture"}}"#,
            store: [registry.hostPort: ["fail": "keychain locked"]])
        do {
            _ = try await failing.credential(for: registry.hostPort)
            Issue.record("expected credentialHelperFailed")
        } catch {
            guard case .credentialHelperFailed(let helper, _, let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(helper == "docker-credential-fixture" && reason.contains("keychain locked"), "\(reason)")
        }
        let token = try credentials(
            config: #"{"credsStore": "fixture"}"#, store: ["h:1": ["Username": "<token>", "Secret": "refresh-secret"]])
        do {
            _ = try await token.credential(for: "h:1")
            Issue.record("expected an identity-token refusal")
        } catch {
            #expect(error.description.contains("identity token") && !error.description.contains("refresh-secret"))
        }
        #expect(throws: RegistryError.self) {
            try DockerCredentials.parse(Data(#"{"credsStore": "../../bin/sh"}"#.utf8), path: "c.json")
        }
    }

    @Test("a helper that exits without reading its stdin is a permanent error, 100 times over, and this process lives on")
    func helperIgnoringStdin() async throws {
        // Exits at once: the server name is written to a pipe nobody reads (EPIPE, or nothing
        // written yet). swift-subprocess 1.0.2 ended the process when writing its input failed.
        let helper = bin.appendingPathComponent("docker-credential-deaf")
        try Data("#!/bin/sh\necho deaf helper >&2\nexit 3\n".utf8).write(to: helper)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: helper.path)
        let credentials = try credentials(config: #"{"credsStore": "deaf"}"#, store: [:])
        for _ in 0..<100 {
            do {
                _ = try await credentials.credential(for: "h:1")
                Issue.record("expected credentialHelperFailed")
            } catch {
                #expect(error.description.contains("exited with exited(3): deaf helper"), "\(error)")
                #expect(error.kind == .permanent)
            }
        }
    }

    @Test("Docker Hub is asked for as https://index.docker.io/v1/")
    func dockerHubServer() async throws {
        let credentials = try credentials(
            config: #"{"credsStore": "fixture"}"#,
            store: ["https://index.docker.io/v1/": ["Username": "hubuser", "Secret": "hubsecret"]])
        let found = try await credentials.credential(for: "docker.io")
        #expect(found?.username == "hubuser" && found?.password.value == "hubsecret")
        #expect(calls == ["get\thttps://index.docker.io/v1/"])
    }

    @Test("a helper that never answers is ended by timeout(1) after 30 s: a permanent error saying so")
    func hangingHelper() async throws {
        let credentials = try credentials(config: #"{"credsStore": "fixture"}"#, store: ["h:1": ["hang": ""]])
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try await credentials.credential(for: "h:1")
            Issue.record("expected credentialHelperFailed")
        } catch {
            #expect(error.description.contains("no answer within 30 s"), "\(error)")
            #expect(error.kind == .permanent)
        }
        // Ended by timeout(1), not by the 300 s backstop.
        #expect(clock.now - start < .seconds(200))
    }
}
