import Foundation

/// How the registry client connects: which registries speak plain HTTP, which CA bundle
/// verifies a registry, timeouts, retries and credentials.
///
/// Scheme choice: a registry with a CA file is HTTPS, verified with that file. Otherwise an
/// insecure registry (loopback by default: `localhost`, `127.0.0.0/8`, `::1`, plus the
/// ``insecureRegistries`` list) is plain HTTP, and every other registry is HTTPS verified
/// against the system store. TLS verification is never switched off.
public struct RegistryConfiguration: Sendable {
    /// Registries (`host` or `host:port`) spoken to over plain HTTP, besides loopback.
    public var insecureRegistries: Set<String> = []
    /// Whether loopback registries are plain HTTP without being listed.
    public var loopbackIsInsecure = true
    /// PEM CA bundle per registry (`host:port` as in the reference); implies HTTPS.
    public var caFiles: [String: String] = [:]
    /// Limit for the tag → digest resolve (HEAD) and other small requests. The Go original's
    /// 2 s broke on Docker Hub; 30 s by default.
    public var resolveTimeout: Duration = .seconds(30)
    /// TCP + TLS connect limit.
    public var connectTimeout: Duration = .seconds(15)
    /// A transfer slower than ``lowSpeedLimit`` bytes/s for ``lowSpeedTime`` is aborted (and retried).
    public var lowSpeedLimit = 1024
    public var lowSpeedTime: Duration = .seconds(30)
    /// Retries of transport errors, 5xx and 429 inside one pull.
    public var retry = Retry()
    /// Credentials from the Docker config file.
    public var credentials = DockerCredentials.none

    /// Defaults: loopback insecure, no CA files, no credentials.
    public init() {}

    /// Exponential backoff with full jitter, bounded in attempts and total time.
    public struct Retry: Sendable {
        /// Attempts per request, the first included.
        public var maxAttempts = 5
        /// Delay ceiling before the first retry; doubles per attempt.
        public var baseDelay: Duration = .milliseconds(250)
        /// Ceiling of one delay (a larger Retry-After ends the retries instead).
        public var maxDelay: Duration = .seconds(10)
        /// Total time spent waiting between attempts of one request.
        public var maxTotalDelay: Duration = .seconds(60)
        /// The clock the waits run on; tests may substitute one they advance.
        public var clock: any Clock<Duration> = ContinuousClock()

        /// Defaults: 5 attempts, 250 ms doubling to 10 s, 60 s in total.
        public init() {}

        /// The wait before attempt `attempt + 1` (attempt counts from 1): a random share of
        /// `baseDelay × 2^(attempt-1)` capped at `maxDelay`, but at least `retryAfter`.
        func delay(afterAttempt attempt: Int, retryAfter: Duration?) -> Duration {
            let ceiling = min(maxDelay, baseDelay * (1 << min(attempt - 1, 20)))
            let jittered = ceiling * Double.random(in: 0.5...1.0)
            guard let retryAfter else { return jittered }
            return max(retryAfter, jittered)
        }
    }

    /// Reads `IMAGE_WORKER_INSECURE_REGISTRIES` (comma-separated hosts) and
    /// `IMAGE_WORKER_REGISTRY_CA` (comma-separated `host=path`) on top of the defaults, and the
    /// Docker config file.
    ///
    /// - Throws: `RegistryError.invalidCredentialsFile`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(RegistryError) -> RegistryConfiguration
    {
        var configuration = RegistryConfiguration()
        for host in (environment["IMAGE_WORKER_INSECURE_REGISTRIES"] ?? "").split(separator: ",") {
            configuration.insecureRegistries.insert(host.trimmingCharacters(in: .whitespaces).lowercased())
        }
        for pair in (environment["IMAGE_WORKER_REGISTRY_CA"] ?? "").split(separator: ",") {
            if let (host, path) = parseCAOption(String(pair)) { configuration.caFiles[host] = path }
        }
        configuration.credentials = try DockerCredentials.load(environment: environment)
        return configuration
    }

    /// Splits `host=path`; `nil` when either side is empty.
    public static func parseCAOption(_ text: String) -> (host: String, path: String)? {
        guard let equals = text.firstIndex(of: "=") else { return nil }
        let host = text[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
        let path = text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        guard !host.isEmpty, !path.isEmpty else { return nil }
        return (host, path)
    }

    /// `http` or `https` for `registry` (`host[:port]`).
    func scheme(for registry: String) -> String {
        let key = registry.lowercased()
        if caFiles[key] != nil { return "https" }
        if insecureRegistries.contains(key) || insecureRegistries.contains(Self.host(of: key)) { return "http" }
        if loopbackIsInsecure && Self.isLoopback(Self.host(of: key)) { return "http" }
        return "https"
    }

    /// The transfer options for `registry`.
    func transferOptions(for registry: String) -> TransferOptions {
        TransferOptions(
            connectTimeout: connectTimeout, lowSpeedLimit: lowSpeedLimit, lowSpeedTime: lowSpeedTime,
            caFile: caFiles[registry.lowercased()], protocols: scheme(for: registry) == "https" ? "https" : "http,https")
    }

    /// The host without port; brackets of an IPv6 literal removed.
    static func host(of registry: String) -> String {
        if registry.hasPrefix("["), let close = registry.firstIndex(of: "]") {
            return String(registry[registry.index(after: registry.startIndex)..<close])
        }
        if let colon = registry.lastIndex(of: ":") { return String(registry[..<colon]) }
        return registry
    }

    /// `localhost`, `127.0.0.0/8` or `::1`.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
