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

@Suite("Docker credentials")
struct DockerCredentialsTests {
    @Test("reads auth as base64 user:password and username/password fields")
    func parse() throws {
        let auth = Data("alice:pa:ss".utf8).base64EncodedString()
        let json = """
            {"auths": {"https://index.docker.io/v1/": {"auth": "\(auth)"},
                       "127.0.0.1:5000": {"username": "bob", "password": "hunter2"},
                       "http://Registry.Example.com/v2/": {"auth": "\(auth)"}}}
            """
        let credentials = try DockerCredentials.parse(Data(json.utf8), path: "config.json")
        let hub = try #require(credentials.credential(for: "docker.io"))
        #expect(hub.username == "alice")
        #expect(hub.password.value == "pa:ss")
        #expect(credentials.credential(for: "127.0.0.1:5000")?.username == "bob")
        #expect(credentials.credential(for: "registry.example.com")?.password.value == "pa:ss")
        #expect(credentials.credential(for: "other.example.com") == nil)
    }

    @Test("never prints the password")
    func redaction() {
        let credential = RegistryCredential(username: "alice", password: "hunter2")
        var dumped = ""
        dump(credential, to: &dumped)
        for text in [
            "\(credential)", String(reflecting: credential), dumped, "\(credential.password)",
            "\(credential.basicAuthorization)",
        ] {
            #expect(!text.contains("hunter2"))
            #expect(!text.contains(Data("alice:hunter2".utf8).base64EncodedString()))
        }
    }

    @Test("a malformed file is an error that quotes no value")
    func malformed() {
        let json = #"{"auths": {"h": {"auth": "bm90LWEtcGFpcg=="}}}"#
        #expect(throws: RegistryError.self) { try DockerCredentials.parse(Data(json.utf8), path: "c.json") }
        do {
            _ = try DockerCredentials.parse(Data(json.utf8), path: "c.json")
        } catch {
            #expect(!error.description.contains("bm90LWEtcGFpcg"))
        }
    }

    @Test("DOCKER_CONFIG names the directory; no file means no credentials")
    func load() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try DockerCredentials.load(environment: ["DOCKER_CONFIG": directory.path]) == .none)
        try Data(#"{"auths":{"h:1":{"username":"u","password":"p"}}}"#.utf8)
            .write(to: directory.appendingPathComponent("config.json"))
        #expect(try DockerCredentials.load(environment: ["DOCKER_CONFIG": directory.path]).credential(for: "h:1")?.username == "u")
    }
}

@Suite("Registry error mapping")
struct RegistryErrorTests {
    let reference: ImageReference
    let digest = Digest(sha256Hex: String(repeating: "a", count: 64))

    init() throws {
        reference = try ImageReference(parsing: "127.0.0.1:5000/a/b:1")
    }

    func map(_ status: Int, _ code: String?, digest: Digest? = nil, retryAfter: Duration? = nil) -> RegistryError {
        let body = code.map { Data(#"{"errors":[{"code":"\#($0)","message":"m"}]}"#.utf8) } ?? Data()
        return RegistryError.from(
            status: status, body: body, url: "u", reference: reference, digest: digest, scope: "s", retryAfter: retryAfter)
    }

    @Test("registry error codes map to their cases")
    func codes() {
        #expect(map(404, "MANIFEST_UNKNOWN") == .manifestUnknown(reference))
        #expect(map(404, "NAME_UNKNOWN") == .nameUnknown(repository: "127.0.0.1:5000/a/b"))
        #expect(map(404, "BLOB_UNKNOWN", digest: digest) == .blobUnknown(repository: "127.0.0.1:5000/a/b", digest: digest))
        #expect(map(401, "UNAUTHORIZED") == .unauthorized(registry: "127.0.0.1:5000", scope: "s"))
        #expect(map(403, "DENIED") == .denied(registry: "127.0.0.1:5000", scope: "s"))
        #expect(map(429, "TOOMANYREQUESTS", retryAfter: .seconds(3)) == .tooManyRequests(url: "u", retryAfter: .seconds(3)))
        #expect(map(404, nil) == .manifestUnknown(reference))
        #expect(map(502, nil) == .httpStatus(url: "u", status: 502, code: nil, detail: nil))
    }

    @Test("permanent: 401/403/404/unsupported/platform; transient: transport, 5xx, 429, digest mismatch")
    func classification() {
        #expect(map(401, nil).kind == .permanent)
        #expect(map(403, nil).kind == .permanent)
        #expect(map(404, nil).kind == .permanent)
        #expect(RegistryError.unsupportedMediaType(url: "u", mediaType: "x").kind == .permanent)
        #expect(RegistryError.platformNotFound(reference, platform: .current, available: []).kind == .permanent)
        #expect(map(503, nil).kind.isTransient)
        #expect(map(429, nil, retryAfter: .seconds(7)).kind == .transient(retryAfter: .seconds(7)))
        #expect(RegistryError.transport(url: "u", curlCode: 7, message: "refused").kind.isTransient)
        #expect(RegistryError.transport(url: "u", curlCode: 60, message: "certificate").kind == .permanent)
        #expect(RegistryError.digestMismatch(url: "u", expected: digest, actual: digest).kind.isTransient)
    }

    @Test("Retry-After in seconds is honoured, an HTTP date is not")
    func retryAfter() {
        #expect(RegistryError.parseRetryAfter("3") == .seconds(3))
        #expect(RegistryError.parseRetryAfter(" 0 ") == .seconds(0))
        #expect(RegistryError.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == nil)
        #expect(RegistryError.parseRetryAfter(nil) == nil)
        #expect(RegistryError.parseRetryAfter("-1") == nil)
    }

    @Test("descriptions are one lowercase-led line")
    func descriptions() {
        let errors: [RegistryError] = [
            map(401, nil), map(404, nil), map(500, "X"), .transport(url: "u", curlCode: 7, message: "Couldn't connect"),
            .digestMismatch(url: "u", expected: digest, actual: digest),
        ]
        for error in errors {
            #expect(!error.description.contains("\n"))
            #expect(error.description.first?.isUppercase == false)
        }
    }
}

@Suite("Registry configuration")
struct RegistryConfigurationTests {
    @Test("loopback is plain HTTP, a CA file means HTTPS, others HTTPS")
    func schemes() {
        var configuration = RegistryConfiguration()
        #expect(configuration.scheme(for: "127.0.0.1:5000") == "http")
        #expect(configuration.scheme(for: "127.8.9.1") == "http")
        #expect(configuration.scheme(for: "localhost:5000") == "http")
        #expect(configuration.scheme(for: "[::1]:5000") == "http")
        #expect(configuration.scheme(for: "docker.io") == "https")
        #expect(configuration.scheme(for: "127.example.com") == "https")
        configuration.caFiles["127.0.0.1:5000"] = "/ca.pem"
        #expect(configuration.scheme(for: "127.0.0.1:5000") == "https")
        configuration.insecureRegistries.insert("registry.lan")
        #expect(configuration.scheme(for: "registry.lan:5000") == "http")
        configuration.loopbackIsInsecure = false
        #expect(configuration.scheme(for: "localhost:5000") == "https")
    }

    @Test("environment lists insecure registries and CA files")
    func environment() throws {
        let configuration = try RegistryConfiguration.fromEnvironment([
            "IMAGE_WORKER_INSECURE_REGISTRIES": "a.lan, b.lan:5000",
            "IMAGE_WORKER_REGISTRY_CA": "c.lan:443=/etc/c.pem,bad",
            "DOCKER_CONFIG": "/nonexistent-\(UUID().uuidString)",
        ])
        #expect(configuration.insecureRegistries == ["a.lan", "b.lan:5000"])
        #expect(configuration.caFiles == ["c.lan:443": "/etc/c.pem"])
        #expect(configuration.resolveTimeout == .seconds(30))
    }

    @Test("backoff grows, is capped and honours Retry-After")
    func backoff() {
        let retry = RegistryConfiguration.Retry()
        #expect(retry.delay(afterAttempt: 1, retryAfter: nil) <= .milliseconds(250))
        #expect(retry.delay(afterAttempt: 30, retryAfter: nil) <= .seconds(10))
        #expect(retry.delay(afterAttempt: 30, retryAfter: nil) >= .seconds(5))
        #expect(retry.delay(afterAttempt: 1, retryAfter: .seconds(2)) >= .seconds(2))
    }
}
