import Foundation
import Testing

@testable import ImageStore

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
