import Foundation
import Testing

@testable import ImageStore

/// Numbers a registry sends (Retry-After, descriptor sizes, token lifetimes) never trap.
@Suite("Numbers from the network")
struct NetworkNumberTests {
    static let digest = Digest(sha256Hex: String(repeating: "b", count: 64))

    @Test(
        "Retry-After: seconds honoured up to the backoff ceiling, anything else ignored",
        arguments: [
            ("3", Duration?.some(.seconds(3))), ("0", .seconds(0)), ("300", .seconds(300)),
            ("301", .seconds(300)), ("99999999999999999", .seconds(300)),
            ("9223372036854775807", .seconds(300)), ("999999999999999999999999999999", .seconds(300)),
            ("-1", nil), ("-99999999999999999999", nil), ("+5", nil), ("1e9", nil), ("3.5", nil),
            ("soon", nil), ("", nil), ("Wed, 21 Oct 2015 07:28:00 GMT", nil), ("٣", nil),
        ])
    func retryAfter(text: String, expected: Duration?) {
        #expect(RegistryError.parseRetryAfter(text) == expected)
    }

    @Test("a 429 with a huge Retry-After classifies and renders without trapping")
    func tooManyRequests() {
        let error = RegistryError.tooManyRequests(url: "u", retryAfter: RegistryError.parseRetryAfter("99999999999999999"))
        #expect(error.kind == .transient(retryAfter: .seconds(300)))
        #expect(error.description.contains("retry after 300 s"))
    }

    @Test(
        "milliseconds of any duration saturate",
        arguments: [
            (Duration.seconds(Int64.max), Int.max), (.seconds(Int64.min), Int.min), (.seconds(-3), -3000),
            (.milliseconds(1500), 1500), (.seconds(9_223_372_036_854_775), 9_223_372_036_854_775_000),
        ])
    func milliseconds(duration: Duration, expected: Int) {
        #expect(duration.wholeMilliseconds == expected)
    }

    func manifest(config: Int64 = 100, layers: [Int64]) -> Manifest {
        Manifest(
            schemaVersion: 2, mediaType: MediaType.ociManifest,
            config: Descriptor(mediaType: MediaType.ociConfig, digest: Self.digest, size: config),
            layers: layers.map { Descriptor(mediaType: MediaType.ociLayerGzip, digest: Self.digest, size: $0) })
    }

    @Test(
        "a negative, absurd or overflowing layer size is a permanent invalid manifest",
        arguments: [
            [Int64.max], [-1], [Int64.min], [ManifestLimits.maxBlobSize + 1], [1, Int64.max],
            [ManifestLimits.maxBlobSize, ManifestLimits.maxBlobSize], [Int64.max, Int64.max],
        ])
    func invalidSizes(layers: [Int64]) {
        do {
            try ManifestLimits.check(manifest(layers: layers), url: "r@d")
            Issue.record("accepted \(layers)")
        } catch {
            guard case .invalidManifest(let url, let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(url == "r@d" && !reason.isEmpty)
            #expect(error.kind == .permanent)
            #expect(error.description.contains("invalid manifest"))
        }
    }

    @Test("sizes within the limits pass; the config has its own 8 MiB limit")
    func limits() throws {
        try ManifestLimits.check(manifest(layers: [0, 1, ManifestLimits.maxBlobSize - 1]), url: "r@d")
        try ManifestLimits.check(manifest(config: 8 << 20, layers: []), url: "r@d")
        #expect(throws: RegistryError.sizeExceeded(url: "r@d config \(Self.digest)", limit: 8 << 20)) {
            try ManifestLimits.check(manifest(config: (8 << 20) + 1, layers: []), url: "r@d")
        }
        #expect(throws: RegistryError.self) { try ManifestLimits.check(manifest(config: -1, layers: []), url: "r@d") }
        #expect(RegistryError.sizeExceeded(url: "u", limit: 1).kind == .permanent)
    }
}
