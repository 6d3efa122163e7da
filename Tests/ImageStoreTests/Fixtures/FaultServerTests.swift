import Foundation
import TestSupport
import Testing

/// Proves each fault of the FaultServer over real HTTP, observed with the curl CLI.
@Suite("Fault server")
struct FaultServerTests {
    @Test("fails with 500 the given number of times, then serves the manifest")
    func statusThenSuccess() async throws {
        let expected = try await FixtureImages.expected("multilayer")
        try await FaultServer.with(
            layout: FixtureImages.layout("multilayer"),
            faults: [.status(500, times: 2, path: "/manifests/latest"), .status(503, times: 1, path: "/manifests/")]
        ) { server in
            let url = server.baseURL.appendingPathComponent("v2/any/repo/manifests/latest")
            var statuses: [Int] = []
            for _ in 0..<4 {
                statuses.append(try await CurlCLI.get(url).status)
            }
            #expect(statuses == [500, 500, 503, 200])
            let last = try await CurlCLI.get(url)
            #expect(try await sha256(last.body) == expected.manifestDigest)
            #expect(last.headers["docker-content-digest"] == expected.manifestDigest)
            #expect(last.headers["content-type"] == expected.mediaType)
            let log = try await server.requests()
            #expect(log.map(\.status) == [500, 500, 503, 200, 200])
        }
    }

    @Test("holds the request after the first until released; the first and the later ones are answered at once")
    func holdAfterOne() async throws {
        try await FaultServer.with(
            layout: FixtureImages.layout("multilayer"), faults: [.hold(after: 1, path: "/manifests/")]
        ) { server in
            let url = server.baseURL.appendingPathComponent("v2/x/manifests/latest")
            #expect(try await CurlCLI.get(url).status == 200)
            let held = Task { try await CurlCLI.get(url).status }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await server.requests().count == 1, "the second request is not answered yet")
            try await server.release()
            #expect(try await held.value == 200)
            #expect(try await CurlCLI.get(url).status == 200)
            #expect(try await server.requests().map(\.faults) == [[], ["hold"], []])
        }
    }

    @Test("answers 429 with Retry-After once")
    func retryAfter() async throws {
        try await FaultServer.with(
            layout: FixtureImages.layout("multilayer"), faults: [.retryAfter(seconds: 7, path: "/manifests/")]
        ) { server in
            let url = server.baseURL.appendingPathComponent("v2/x/manifests/latest")
            let first = try await CurlCLI.get(url)
            #expect(first.status == 429)
            #expect(first.headers["retry-after"] == "7")
            #expect(try await CurlCLI.get(url).status == 200)
        }
    }

    @Test("drops a blob after K bytes once, then honours Range")
    func dropThenRange() async throws {
        let expected = try await FixtureImages.expected("multilayer")
        let digest = try #require(expected.layerDigests?[1])  // the layer with the 4 MiB file
        try await FaultServer.with(
            layout: FixtureImages.layout("multilayer"), faults: [.dropConnection(afterBytes: 1000, path: digest)]
        ) { server in
            let url = server.baseURL.appendingPathComponent("v2/x/blobs/\(digest)")
            let cut = try await CurlCLI.get(url)
            #expect(cut.exitCode == 18)  // CURLE_PARTIAL_FILE
            #expect(cut.body.count == 1000)
            let rest = try await CurlCLI.get(url, arguments: ["-r", "1000-"])
            #expect(rest.status == 206)
            #expect(rest.headers["content-range"]?.hasPrefix("bytes 1000-") == true)
            #expect(try await sha256(cut.body + rest.body) == digest)
            let log = try await server.requests()
            #expect(log.map(\.range) == [nil, "bytes=1000-"])
            #expect(log.first?.faults == ["drop"])
        }
    }

    @Test("serves wrong bytes of the right length")
    func wrongBytes() async throws {
        let expected = try await FixtureImages.expected("multilayer")
        let digest = try #require(expected.configDigest)
        try await FaultServer.with(
            layout: FixtureImages.layout("multilayer"), faults: [.wrongBytes(path: digest)]
        ) { server in
            let blob = try await CurlCLI.get(server.baseURL.appendingPathComponent("v2/x/blobs/\(digest)"))
            #expect(blob.status == 200)
            #expect(blob.body.count == Int(blob.headers["content-length"] ?? ""))
            #expect(try await sha256(blob.body) != digest)
        }
    }

    @Test("omits Docker-Content-Digest when told, and HEAD works")
    func omitDigest() async throws {
        let expected = try await FixtureImages.expected("multiarch")
        try await FaultServer.with(
            layout: FixtureImages.layout("multiarch"), faults: [.omitDigest(path: "/manifests/latest")]
        ) { server in
            let omitted = try await CurlCLI.request(
                "HEAD", server.baseURL.appendingPathComponent("v2/x/manifests/latest"))
            #expect(omitted.status == 200)
            #expect(omitted.headers["docker-content-digest"] == nil)
            #expect(omitted.headers["content-type"] == expected.mediaType)
            let child = try #require(expected.platforms?["linux/arm64"]?.manifestDigest)
            let byDigest = try await CurlCLI.request(
                "HEAD", server.baseURL.appendingPathComponent("v2/x/manifests/\(child)"))
            #expect(byDigest.headers["docker-content-digest"] == child)
            let missing = try await CurlCLI.get(server.baseURL.appendingPathComponent("v2/x/manifests/nope"))
            #expect(missing.status == 404)
        }
    }
}
