import Foundation
import TestSupport
import Testing

@testable import ImageStore

/// Builds a client configuration that reaches a test registry: its CA for `.tls`, its
/// credentials (as a Docker config would give them) for `.basic` and `.token`, short backoff.
func registryConfiguration(for registry: TestRegistry) throws -> RegistryConfiguration {
    var configuration = RegistryConfiguration()
    configuration.retry.baseDelay = .milliseconds(20)
    if let caPath = registry.caPath { configuration.caFiles[registry.hostPort] = caPath }
    if let credentials = registry.credentials {
        let json = #"{"auths":{"\#(registry.hostPort)":{"username":"\#(credentials.user)","password":"\#(credentials.password)"}}}"#
        configuration.credentials = try DockerCredentials.parse(Data(json.utf8), path: "test")
    }
    return configuration
}

/// A configuration for a fault server (plain HTTP on loopback) with short backoff.
func faultConfiguration() -> RegistryConfiguration {
    var configuration = RegistryConfiguration()
    configuration.retry.baseDelay = .milliseconds(20)
    return configuration
}

/// Checks with `sha256sum` (not our hasher) that every blob the image names is in the store
/// under its digest, and that no temp file was left behind.
func expectStoreHolds(_ image: PulledImage, in store: ContentStore) async throws {
    var digests = [image.manifestDigest, image.manifest.config.digest] + image.manifest.layers.map(\.digest)
    if let index = image.indexDigest { digests.append(index) }
    for digest in digests {
        #expect(store.has(digest), "missing \(digest)")
        #expect(try await ProcessRunner.sha256(of: store.path(of: digest)) == digest.encoded)
    }
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.root.appendingPathComponent("blobs").path)
        .filter { $0.hasPrefix(".tmp-") }
    #expect(leftovers.isEmpty)
}

/// The digests a fixture's expected.json gives for `platform` (or its only image).
struct ExpectedDigests {
    var index: String?
    var manifest: String
    var config: String
    var layers: [String]

    init(_ expected: ExpectedImage, platform: String = "linux/amd64") throws {
        if let platforms = expected.platforms {
            let image = try #require(platforms[platform])
            index = expected.indexDigest
            manifest = image.manifestDigest
            config = image.configDigest
            layers = image.layerDigests
        } else {
            index = nil
            manifest = try #require(expected.manifestDigest)
            config = try #require(expected.configDigest)
            layers = try #require(expected.layerDigests)
        }
    }
}

/// The `image-worker` executable built beside the test bundle.
var imageWorkerBinary: String {
    let directory = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]))
        .deletingLastPathComponent()
    return directory.appendingPathComponent("image-worker").path
}
