import Foundation

/// A real Debian `docker-registry` on a free 127.0.0.1 port with filesystem storage in a
/// temporary directory, started by Tests/Fixtures/registry.py.
///
/// ```swift
/// let registry = try await TestRegistry.start(.basic(user: "u", password: "p"))
/// defer { Task { await registry.stop() } }   // or share one: SharedRegistries
/// try await registry.push(layout: FixtureImages.layout("multilayer"), repository: "fx/multi", tag: "v1")
/// ```
public final class TestRegistry: Sendable {
    /// How the registry authenticates and whether it speaks TLS.
    public enum Mode: Sendable, Hashable, CustomStringConvertible {
        /// Plain HTTP, no authentication.
        case plain
        /// HTTP Basic authentication against an htpasswd file (bcrypt, `htpasswd -Bbn`).
        case basic(user: String, password: String)
        /// Bearer tokens from a token server (RS256 JWT with x5c) that checks these Basic credentials.
        case token(user: String, password: String)
        /// HTTPS with a certificate for 127.0.0.1 and localhost signed by a fresh CA (`caPath`).
        case tls

        /// `.basic` with the default fixture credentials.
        public static let basicDefault = Mode.basic(user: "fixture", password: "fixture-password")
        /// `.token` with the default fixture credentials.
        public static let tokenDefault = Mode.token(user: "fixture", password: "fixture-password")

        public var description: String {
            switch self {
            case .plain: return "plain"
            case .basic: return "basic"
            case .token: return "token"
            case .tls: return "tls"
            }
        }
    }

    /// A user name and password accepted by the registry (or its token server).
    public struct Credentials: Sendable, Hashable {
        public let user: String
        public let password: String
    }

    private struct Info: Decodable {
        let url: String
        let hostPort: String
        let caPath: String?
        let statsURL: String?
        let tokenURL: String?
    }

    public let mode: Mode
    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    public let baseURL: URL
    /// `127.0.0.1:PORT`, the registry part of an image reference.
    public let hostPort: String
    /// PEM file of the CA that signed the server certificate (`.tls` only).
    public let caPath: String?
    /// Credentials for `.basic` and `.token`.
    public let credentials: Credentials?
    /// The token server's realm (`.token` only); its `service` is `TestRegistry.tokenService`.
    public let tokenURL: URL?
    /// GET answers `{"tokensIssued": N, "scopes": [...]}` (`.token` only).
    public let tokenStatsURL: URL?
    /// The `service` the registry names in its Bearer challenge.
    public static let tokenService = "fixture-registry"
    private let helper: BackgroundHelper

    private init(mode: Mode, info: Info, helper: BackgroundHelper) throws {
        guard let baseURL = URL(string: info.url) else {
            throw TestSupportError.badOutput(helper: "registry.py", detail: info.url)
        }
        self.mode = mode
        self.baseURL = baseURL
        self.hostPort = info.hostPort
        self.caPath = info.caPath
        self.tokenURL = info.tokenURL.flatMap(URL.init(string:))
        self.tokenStatsURL = info.statsURL.flatMap(URL.init(string:))
        switch mode {
        case .basic(let user, let password), .token(let user, let password):
            credentials = Credentials(user: user, password: password)
        case .plain, .tls:
            credentials = nil
        }
        self.helper = helper
    }

    /// Starts a registry and returns once `GET /v2/` answers.
    public static func start(_ mode: Mode) async throws -> TestRegistry {
        var arguments: [String] = []
        switch mode {
        case .plain: arguments = ["--auth", "plain"]
        case .tls: arguments = ["--auth", "plain", "--tls"]
        case .basic(let user, let password): arguments = ["--auth", "basic", "--user", user, "--password", password]
        case .token(let user, let password): arguments = ["--auth", "token", "--user", user, "--password", password]
        }
        let (helper, info) = try await BackgroundHelper.launch(script: "registry.py", as: Info.self) {
            arguments + ["--dir", $0.appendingPathComponent("state").path]
        }
        do {
            return try TestRegistry(mode: mode, info: info, helper: helper)
        } catch {
            await helper.stop()
            throw error
        }
    }

    /// Stops the registry (SIGTERM, wait) and removes its storage.
    public func stop() async {
        await helper.stop()
    }

    /// Runs `body` with a fresh registry and stops it afterwards, also when `body` throws.
    public static func with<T>(_ mode: Mode, _ body: (TestRegistry) async throws -> T) async throws -> T {
        let registry = try await start(mode)
        do {
            let result = try await body(registry)
            await registry.stop()
            return result
        } catch {
            await registry.stop()
            throw error
        }
    }

    /// `127.0.0.1:PORT/REPOSITORY:TAG`.
    public func reference(repository: String, tag: String) -> String {
        "\(hostPort)/\(repository):\(tag)"
    }

    /// Uploads the layout's image tagged `ref` (index.json annotation) byte for byte with
    /// Tests/Fixtures/push.py: blobs by POST+PUT, child manifests by digest, then the top
    /// manifest or index under `tag`. Returns the pushed top-level digest.
    @discardableResult
    public func push(layout: URL, repository: String, tag: String, ref: String = "latest") async throws -> String {
        var arguments = [
            FixtureImages.fixturesDirectory.appendingPathComponent("push.py").path,
            "--url", baseURL.absoluteString, "--ref", ref,
        ]
        if let caPath { arguments += ["--ca", caPath] }
        if let credentials { arguments += ["--user", credentials.user, "--password", credentials.password] }
        arguments += [layout.path, repository, tag]
        return try await ProcessRunner.check(ProcessRunner.python, arguments).output
    }

    /// Arguments that let the `curl` CLI reach this registry: `--cacert` for `.tls`.
    /// Authentication is separate: see `authorization(repository:actions:)`.
    public var curlArguments: [String] {
        caPath.map { ["--cacert", $0] } ?? []
    }

    /// An `Authorization` header value for requests to `repository`: Basic credentials for
    /// `.basic`, a freshly issued Bearer token for `.token` (counted by the token server),
    /// nil for `.plain` and `.tls`.
    public func authorization(repository: String, actions: String = "pull") async throws -> String? {
        guard let credentials else { return nil }
        let basic = "Basic " + Data("\(credentials.user):\(credentials.password)".utf8).base64EncodedString()
        guard case .token = mode, let tokenURL else { return basic }
        var components = URLComponents(url: tokenURL, resolvingAgainstBaseURL: false)
        components?.queryItems = [
            URLQueryItem(name: "service", value: Self.tokenService),
            URLQueryItem(name: "scope", value: "repository:\(repository):\(actions)"),
        ]
        guard let url = components?.url else {
            throw TestSupportError.badOutput(helper: "registry.py", detail: tokenURL.absoluteString)
        }
        let response = try await CurlCLI.get(url, headers: ["Authorization: \(basic)"])
        struct TokenReply: Decodable { let token: String }
        guard response.status == 200, let reply = try? JSONDecoder().decode(TokenReply.self, from: response.body)
        else {
            throw TestSupportError.badOutput(helper: "token server", detail: "HTTP \(response.status)")
        }
        return "Bearer \(reply.token)"
    }

    /// How many tokens the token server has issued so far (`.token` only; 0 otherwise).
    public func tokensIssued() async throws -> Int {
        guard let tokenStatsURL else { return 0 }
        struct Stats: Decodable { let tokensIssued: Int }
        let response = try await CurlCLI.get(tokenStatsURL)
        guard let stats = try? JSONDecoder().decode(Stats.self, from: response.body) else {
            throw TestSupportError.badOutput(helper: "token server", detail: "HTTP \(response.status)")
        }
        return stats.tokensIssued
    }
}
