import Foundation
import TestSupport
import Testing

@testable import ImageStore

@Suite("image-worker inspect, fetch and import")
final class FetchCommandTests {
    let scratch: TemporaryDirectory
    let environment: [String: String]

    init() throws {
        scratch = try TemporaryDirectory(prefix: "fetch-cli")
        // An empty Docker config directory: the tests never read the machine's credentials.
        let docker = scratch.url.appendingPathComponent("docker")
        try FileManager.default.createDirectory(at: docker, withIntermediateDirectories: true)
        environment = ["DOCKER_CONFIG": docker.path]
    }

    deinit { scratch.remove() }

    var dataDirectory: String { scratch.url.appendingPathComponent("data").path }

    @Test("inspect --json shows digests, platform, layers and config")
    func inspect() async throws {
        let registry = try await SharedRegistries.shared.registry(.tls)
        try await registry.push(layout: FixtureImages.layout("multiarch"), repository: "cli/inspect", tag: "v1")
        let expected = try ExpectedDigests(try await FixtureImages.expected("multiarch"), platform: "linux/arm64")
        let caPath = try #require(registry.caPath)
        let result = try await ProcessRunner.run(
            imageWorkerBinary,
            [
                "inspect", registry.reference(repository: "cli/inspect", tag: "v1"), "--json", "--platform", "linux/arm64",
                "--data-dir", dataDirectory, "--registry-ca", "\(registry.hostPort)=\(caPath)",
            ],
            environment: environment)
        #expect(result.status == 0, "\(String(decoding: result.stderr, as: UTF8.self))")
        let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        #expect(json["index_digest"] as? String == expected.index)
        #expect(json["digest"] as? String == expected.index)
        #expect(json["manifest_digest"] as? String == expected.manifest)
        #expect((json["platform"] as? String)?.hasPrefix("linux/arm64") == true)
        let layers = try #require(json["layers"] as? [[String: Any]])
        #expect(layers.compactMap { $0["digest"] as? String } == expected.layers)
        #expect(layers.allSatisfy { ($0["size"] as? Int ?? 0) > 0 && $0["media_type"] is String })
        let config = try #require(json["config"] as? [String: Any])
        #expect(config["working_dir"] as? String == "/home/user")
        #expect(config["user"] as? String == "1000:1000")
    }

    @Test("two fetch processes pulling the same image at once both succeed, each blob stored once")
    func concurrentProcesses() async throws {
        let registry = try await SharedRegistries.shared.registry(.plain)
        try await registry.push(layout: FixtureImages.layout("multilayer-zstd"), repository: "cli/twice", tag: "v1")
        let arguments = ["fetch", registry.reference(repository: "cli/twice", tag: "v1"), "--data-dir", dataDirectory]
        let environment = environment
        async let first = ProcessRunner.run(imageWorkerBinary, arguments, environment: environment)
        async let second = ProcessRunner.run(imageWorkerBinary, arguments, environment: environment)
        let results = try await [first, second]
        for result in results {
            let stderr = String(decoding: result.stderr, as: UTF8.self)
            #expect(result.status == 0, "\(stderr)")
            // Not a TTY: one plain line per step, no bar.
            #expect(stderr.contains("resolved sha256:"))
            #expect(!stderr.contains("\r"))
        }

        let expected = try ExpectedDigests(try await FixtureImages.expected("multilayer-zstd"))
        let store = try ContentStore(root: URL(fileURLWithPath: dataDirectory).appendingPathComponent("oci"))
        let files = try FileManager.default.contentsOfDirectory(atPath: store.root.appendingPathComponent("blobs/sha256").path)
        #expect(Set(files) == Set(([expected.manifest, expected.config] + expected.layers).map { String($0.dropFirst(7)) }))
        for digest in [expected.manifest, expected.config] + expected.layers {
            #expect(try await ProcessRunner.sha256(of: store.path(of: try Digest(parsing: digest))) == String(digest.dropFirst(7)))
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.root.appendingPathComponent("blobs").path)
            .filter { $0.hasPrefix(".tmp-") }
        #expect(leftovers.isEmpty)
        #expect(try store.indexEntries().count == 1)
    }

    @Test("fetch of a 200 MiB layer stays under 64 MiB peak RSS")
    func peakMemory() async throws {
        let server = try await FaultServer.start(layout: FixtureImages.layout("large"))
        defer { Task { await server.stop() } }
        let result = try await ProcessRunner.run(
            "/usr/bin/time",
            [
                "-f", "maxrss_kb=%M", imageWorkerBinary, "fetch", server.reference(repository: "fx/large"), "--data-dir",
                dataDirectory,
            ],
            environment: environment)
        let stderr = String(decoding: result.stderr, as: UTF8.self)
        #expect(result.status == 0, "\(stderr)")
        let line = try #require(stderr.split(separator: "\n").last { $0.hasPrefix("maxrss_kb=") })
        let kilobytes = try #require(Int(line.dropFirst("maxrss_kb=".count)))
        print("image-worker fetch of the large fixture: peak RSS \(kilobytes) KiB")
        #expect(kilobytes < 64 * 1024)
    }

    @Test("import of a layout directory and of an oci-archive tar verifies blobs and names the image")
    func importLayoutAndArchive() async throws {
        let layout = try await FixtureImages.layout("multilayer-docker")
        let expected = try ExpectedDigests(try await FixtureImages.expected("multilayer-docker"))
        let fromDirectory = try await ProcessRunner.run(
            imageWorkerBinary, ["import", layout.path, "--name", "local/app:dir", "--data-dir", dataDirectory, "--json"],
            environment: environment)
        #expect(fromDirectory.status == 0, "\(String(decoding: fromDirectory.stderr, as: UTF8.self))")
        let archive = scratch.url.appendingPathComponent("image.tar").path
        try await ProcessRunner.check("tar", ["-cf", archive, "-C", layout.path, "oci-layout", "index.json", "blobs"])
        let fromArchive = try await ProcessRunner.run(
            imageWorkerBinary, ["import", archive, "--name", "local/app:tar", "--data-dir", dataDirectory + "-tar", "--json"],
            environment: environment)
        #expect(fromArchive.status == 0, "\(String(decoding: fromArchive.stderr, as: UTF8.self))")
        for output in [fromDirectory.stdout, fromArchive.stdout] {
            let json = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
            #expect(json["manifest_digest"] as? String == expected.manifest)
        }
        let store = try ContentStore(root: URL(fileURLWithPath: dataDirectory + "-tar").appendingPathComponent("oci"))
        for digest in [expected.manifest, expected.config] + expected.layers {
            #expect(store.has(try Digest(parsing: digest)))
        }
        #expect(try store.indexEntries().compactMap { $0.annotations?[ContentStore.refNameAnnotation] } == ["docker.io/local/app:tar"])
    }
}
