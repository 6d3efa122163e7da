import Foundation

/// A secret string (a password or token) whose description is always redacted, so it cannot
/// reach a log line, an error message or the database by interpolation.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The secret itself; read it only to build a request header.
    public let value: String

    /// Wraps `value`.
    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// A username and password for one registry.
public struct RegistryCredential: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public let username: String
    public let password: Secret

    /// Creates a credential.
    public init(username: String, password: String) {
        self.username = username
        self.password = Secret(password)
    }

    /// `Basic base64(user:password)`.
    var basicAuthorization: Secret {
        Secret("Basic " + Data("\(username):\(password.value)".utf8).base64EncodedString())
    }

    public var description: String { "credential for \(username) (password <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["username": username, "password": password]) }
}

/// Registry credentials from Docker's config file: `$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`.
///
/// Reads `auths.<host>.auth` (base64 `user:password`) or `auths.<host>.username`/`password`.
/// Keys may carry a scheme and path (`https://index.docker.io/v1/` is Docker Hub's key); they
/// are matched by host. Credential helpers are run as Docker runs them: `credHelpers.<host>`
/// names the helper of one registry, `credsStore` the helper of every other one; the program
/// `docker-credential-<name>` (found on the `PATH` of the environment the file was loaded
/// with) gets `get` as its argument and the server on stdin, and answers JSON
/// (``CredentialHelper``). A helper that knows no credential for the registry falls back to
/// the `auths` entry, then to anonymous.
public struct DockerCredentials: Sendable, Equatable {
    private var byHost: [String: RegistryCredential]
    /// `credHelpers`: helper name per normalized host.
    private var helperByHost: [String: String]
    /// `credsStore`: the helper of every registry not in ``helperByHost``.
    private var defaultHelper: String?
    /// Where helpers are looked for (`PATH` of the loading environment).
    private var searchPath: String

    /// No credentials: every registry is tried anonymously.
    public static let none = DockerCredentials(byHost: [:])

    init(
        byHost: [String: RegistryCredential], helperByHost: [String: String] = [:], defaultHelper: String? = nil,
        searchPath: String = CredentialHelper.defaultSearchPath
    ) {
        self.byHost = byHost
        self.helperByHost = helperByHost
        self.defaultHelper = defaultHelper
        self.searchPath = searchPath
    }

    /// Loads the config file the environment names; no file means no credentials.
    ///
    /// - Throws: `RegistryError.invalidCredentialsFile` when the file exists but is malformed.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws(RegistryError)
        -> DockerCredentials
    {
        let directory: String
        if let configured = environment["DOCKER_CONFIG"], !configured.isEmpty {
            directory = configured
        } else {
            directory = (environment["HOME"] ?? NSHomeDirectory()) + "/.docker"
        }
        let path = directory + "/config.json"
        guard FileManager.default.fileExists(atPath: path) else { return .none }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidCredentialsFile(path: path, reason: "cannot be read")
        }
        return try parse(data, path: path, searchPath: environment["PATH"] ?? CredentialHelper.defaultSearchPath)
    }

    /// Parses the contents of a Docker config file.
    ///
    /// - Throws: `RegistryError.invalidCredentialsFile`; the reason never quotes a value.
    public static func parse(_ data: Data, path: String, searchPath: String = CredentialHelper.defaultSearchPath)
        throws(RegistryError) -> DockerCredentials
    {
        struct File: Decodable {
            struct Entry: Decodable {
                var auth: String?
                var username: String?
                var password: String?
            }

            var auths: [String: Entry]?
            var credsStore: String?
            var credHelpers: [String: String]?
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw .invalidCredentialsFile(path: path, reason: "not a json object with an \"auths\" map")
        }
        var byHost: [String: RegistryCredential] = [:]
        for (key, entry) in file.auths ?? [:] {
            let host = normalizedHost(key)
            if let auth = entry.auth, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).map({ String(decoding: $0, as: UTF8.self) }),
                    let colon = decoded.firstIndex(of: ":")
                else {
                    throw .invalidCredentialsFile(path: path, reason: "auths.\(key).auth is not base64 of user:password")
                }
                byHost[host] = RegistryCredential(
                    username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]))
            } else if let username = entry.username, let password = entry.password {
                byHost[host] = RegistryCredential(username: username, password: password)
            }
        }
        var helperByHost: [String: String] = [:]
        for (key, helper) in file.credHelpers ?? [:] {
            guard CredentialHelper.isValidName(helper) else {
                throw .invalidCredentialsFile(path: path, reason: "credHelpers.\(key) is not a helper name")
            }
            helperByHost[normalizedHost(key)] = helper
        }
        let defaultHelper = file.credsStore.flatMap { $0.isEmpty ? nil : $0 }
        if let defaultHelper, !CredentialHelper.isValidName(defaultHelper) {
            throw .invalidCredentialsFile(path: path, reason: "credsStore is not a helper name")
        }
        return DockerCredentials(
            byHost: byHost, helperByHost: helperByHost, defaultHelper: defaultHelper, searchPath: searchPath)
    }

    /// The host names a registry of an image reference goes by in the config file.
    private static func aliases(of registry: String) -> [String] {
        registry == ImageReference.dockerHub
            ? ["docker.io", "index.docker.io", "registry-1.docker.io"] : [registry.lowercased()]
    }

    /// The credential for a registry as written in an image reference (`docker.io`, `host:port`):
    /// its credential helper's answer when one is configured and knows one, else the `auths`
    /// entry.
    ///
    /// - Throws: `RegistryError.credentialHelperFailed` when the helper is missing, fails or
    ///   answers something else than the protocol's JSON.
    public func credential(for registry: String) async throws(RegistryError) -> RegistryCredential? {
        let aliases = Self.aliases(of: registry)
        if let helper = aliases.lazy.compactMap({ helperByHost[$0] }).first ?? defaultHelper {
            let server = registry == ImageReference.dockerHub ? Self.dockerHubServer : registry.lowercased()
            let program = CredentialHelper(name: helper, searchPath: searchPath)
            if let found = try await program.get(server: server, registry: registry) { return found }
        }
        return storedCredential(for: registry)
    }

    /// The `auths` entry for `registry`, without running any helper.
    func storedCredential(for registry: String) -> RegistryCredential? {
        Self.aliases(of: registry).lazy.compactMap { byHost[$0] }.first
    }

    /// The server Docker names Docker Hub by, in `auths` keys and to credential helpers.
    static let dockerHubServer = "https://index.docker.io/v1/"

    /// `https://index.docker.io/v1/` → `index.docker.io`; `Host:5000` → `host:5000`.
    static func normalizedHost(_ key: String) -> String {
        var host = Substring(key)
        if let scheme = host.range(of: "://") { host = host[scheme.upperBound...] }
        if let slash = host.firstIndex(of: "/") { host = host[..<slash] }
        return host.lowercased()
    }
}
