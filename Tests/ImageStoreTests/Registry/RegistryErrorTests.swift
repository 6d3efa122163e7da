import Foundation
import Testing

@testable import ImageStore

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
