import Foundation
import TestSupport
import Testing

@testable import ImageStore

@Suite("Pull through injected faults")
final class RegistryFaultTests {
    let scratch: TemporaryDirectory
    let store: ContentStore

    init() throws {
        scratch = try TemporaryDirectory(prefix: "faults")
        store = try ContentStore(root: scratch.url.appendingPathComponent("oci"))
    }

    deinit { scratch.remove() }

    func pull(_ server: FaultServer) async throws -> PulledImage {
        let puller = ImagePuller(client: RegistryClient(configuration: faultConfiguration()), store: store)
        return try await puller.pull(try ImageReference(parsing: server.reference(repository: "fx/multilayer")))
    }

    func largestLayer() async throws -> String {
        let expected = try ExpectedDigests(try await FixtureImages.expected("multilayer"))
        return try #require(expected.layers.first)
    }

    @Test("a 500 is retried and the pull succeeds")
    func serverErrorThenSuccess() async throws {
        let server = try await FaultServer.start(
            layout: FixtureImages.layout("multilayer"), faults: [.status(500, path: "/manifests/")])
        defer { Task { await server.stop() } }
        let image = try await pull(server)
        try await expectStoreHolds(image, in: store)
        let manifestStatuses = try await server.requests().filter { $0.path.contains("/manifests/") }.map(\.status)
        #expect(manifestStatuses.prefix(2) == [500, 200])
    }

    @Test("a 429 with Retry-After is waited out and retried")
    func tooManyRequests() async throws {
        let layer = try await largestLayer()
        let server = try await FaultServer.start(
            layout: FixtureImages.layout("multilayer"), faults: [.retryAfter(seconds: 1, path: layer)])
        defer { Task { await server.stop() } }
        let image = try await pull(server)
        try await expectStoreHolds(image, in: store)
        let statuses = try await server.requests().filter { $0.path.contains(layer) }.map(\.status)
        #expect(statuses == [429, 200])
    }

    @Test("a connection dropped mid-blob resumes with a Range request from the bytes written")
    func resumeWithRange() async throws {
        let layer = try await largestLayer()
        let server = try await FaultServer.start(
            layout: FixtureImages.layout("multilayer"), faults: [.dropConnection(afterBytes: 100_000, path: layer)])
        defer { Task { await server.stop() } }
        let image = try await pull(server)
        try await expectStoreHolds(image, in: store)
        let requests = try await server.requests().filter { $0.path.contains(layer) }
        #expect(requests.map(\.range) == [nil, "bytes=100000-"])
        #expect(requests.last?.status == 206)
    }

    @Test("wrong bytes fail with digestMismatch naming both digests and leave nothing in the store")
    func wrongBytes() async throws {
        let layer = try await largestLayer()
        let digest = try Digest(parsing: layer)
        let server = try await FaultServer.start(
            layout: FixtureImages.layout("multilayer"), faults: [.wrongBytes(path: layer)])
        defer { Task { await server.stop() } }
        do {
            _ = try await pull(server)
            Issue.record("expected digestMismatch")
        } catch let error as RegistryError {
            guard case .digestMismatch(let url, let expected, let actual) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(url.hasSuffix(layer))
            #expect(expected == digest)
            #expect(actual != digest)
            #expect(error.kind.isTransient)
        }
        #expect(!store.has(digest))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.root.appendingPathComponent("blobs").path)
            .filter { $0.hasPrefix(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test("without Docker-Content-Digest the tag is resolved by hashing the manifest")
    func missingDigestHeader() async throws {
        let expected = try ExpectedDigests(try await FixtureImages.expected("multilayer"))
        let server = try await FaultServer.start(
            layout: FixtureImages.layout("multilayer"), faults: [.omitDigest(path: "/manifests/")])
        defer { Task { await server.stop() } }
        let image = try await pull(server)
        #expect(image.manifestDigest.description == expected.manifest)
        try await expectStoreHolds(image, in: store)
        // The manifest fetched to hash it is the one stored: it is not fetched again by digest.
        let manifestGets = try await server.requests().filter { $0.method == "GET" && $0.path.contains("/manifests/") }
        #expect(manifestGets.count == 1)
    }

    @Test("pulling a tag then the same image by digest downloads no blob again")
    func tagThenDigest() async throws {
        let server = try await FaultServer.start(layout: FixtureImages.layout("multiarch"))
        defer { Task { await server.stop() } }
        let puller = ImagePuller(client: RegistryClient(configuration: faultConfiguration()), store: store)
        let tagged = try ImageReference(parsing: server.reference(repository: "fx/multiarch"))
        let first = try await puller.pull(tagged, platform: Platform(os: "linux", architecture: "amd64"))
        let requestsAfterFirst = try await server.requests().count
        #expect(first.downloadedBlobs == 2 + 1 + first.layers.count)

        let second = try await puller.pull(
            tagged.withDigest(first.resolvedDigest), platform: Platform(os: "linux", architecture: "amd64"))

        #expect(second.downloadedBlobs == 0)
        #expect(second.manifestDigest == first.manifestDigest)
        #expect(second.indexDigest == first.indexDigest)
        #expect(try await server.requests().count == requestsAfterFirst)
    }

    @Test("cancelling a pull aborts the transfer from the progress callback and leaves no temp file")
    func cancellation() async throws {
        // The layer is served slowly (about 40 s for its 200 MB), so the transfer is surely still
        // running when the task is cancelled, however loaded the machine is.
        let expected = try ExpectedDigests(try await FixtureImages.expected("large"))
        let faults = expected.layers.map { Fault.slow(bytesPerSecond: 5_000_000, path: $0) }
        let server = try await FaultServer.start(layout: FixtureImages.layout("large"), faults: faults)
        defer { Task { await server.stop() } }
        let puller = ImagePuller(client: RegistryClient(configuration: faultConfiguration()), store: store)
        let reference = try ImageReference(parsing: server.reference(repository: "fx/large"))
        let (started, signal) = AsyncStream<Void>.makeStream()
        let pull = Task {
            try await puller.pull(reference) { event in
                if case .bytes = event { signal.yield() }
            }
        }
        for await _ in started { break }
        pull.cancel()
        let result = await pull.result
        #expect(throws: CancellationError.self) { try result.get() }
        for layer in expected.layers { #expect(!store.has(try Digest(parsing: layer))) }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.root.appendingPathComponent("blobs").path)
            .filter { $0.hasPrefix(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test("a registry that keeps answering 503 fails transient after the bounded attempts")
    func retriesAreBounded() async throws {
        let server = try await FaultServer.start(
            layout: FixtureImages.layout("multilayer"), faults: [.status(503, times: -1, path: "/manifests/")])
        defer { Task { await server.stop() } }
        let reference = try ImageReference(parsing: server.reference(repository: "fx/multilayer"))
        let client = RegistryClient(configuration: faultConfiguration())
        do {
            _ = try await client.resolve(reference)
            Issue.record("expected a 503 error")
        } catch let error as RegistryError {
            guard case .httpStatus(_, 503, _, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(error.kind.isTransient)
        }
        let attempts = try await server.requests().filter { $0.path.contains("/manifests/") }.count
        #expect(attempts == client.configuration.retry.maxAttempts)
    }
}
