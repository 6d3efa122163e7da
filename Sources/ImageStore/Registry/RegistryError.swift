import Foundation

/// Why talking to a registry failed.
///
/// Permanent: 401/403/404, unsupported media types, a platform the image lacks, malformed
/// documents or credentials. Transient: transport failures, 5xx, 429, truncated bodies and
/// digest mismatches (a retry downloads the bytes again).
public enum RegistryError: ClassifiedError, Equatable {
    /// 401 after presenting the best credentials we have (or none).
    case unauthorized(registry: String, scope: String)
    /// 403 / DENIED: the credentials are valid but may not read this repository.
    case denied(registry: String, scope: String)
    /// 404 / MANIFEST_UNKNOWN for the tag or digest.
    case manifestUnknown(ImageReference)
    /// 404 / NAME_UNKNOWN: the repository does not exist.
    case nameUnknown(repository: String)
    /// 404 / BLOB_UNKNOWN.
    case blobUnknown(repository: String, digest: Digest)
    /// 429 / TOOMANYREQUESTS after the retry budget; `retryAfter` is what the server asked for.
    case tooManyRequests(url: String, retryAfter: Duration?)
    /// Any other unexpected status, with the registry's error code and detail when it sent one.
    case httpStatus(url: String, status: Int, code: String?, detail: String?)
    /// The bytes received hash to something else than the digest that named them.
    case digestMismatch(url: String, expected: Digest, actual: Digest)
    /// The body ended before the size the descriptor promised, or went past it.
    case sizeMismatch(url: String, expected: Int64, actual: Int64)
    /// A body is larger than its limit: a manifest or token answer over 4 MiB, a config over
    /// 8 MiB, or a blob whose Content-Length passes its declared size.
    case sizeExceeded(url: String, limit: Int)
    /// libcurl failed: connection, TLS, timeout, reset.
    case transport(url: String, curlCode: Int32, message: String)
    /// The registry served a document type image-worker cannot use.
    case unsupportedMediaType(url: String, mediaType: String)
    /// A manifest, index, config or token body did not parse.
    case invalidDocument(url: String, reason: String)
    /// The index has no manifest for the wanted platform.
    case platformNotFound(ImageReference, platform: Platform, available: [Platform])
    /// The 401 carried a challenge we cannot answer.
    case unsupportedChallenge(registry: String, challenge: String)
    /// The Docker config file exists but cannot be read.
    case invalidCredentialsFile(path: String, reason: String)
    /// A Bearer challenge named a token realm image-worker will not contact (wrong scheme, plain
    /// HTTP from an HTTPS registry, cleartext credentials to another host).
    case refusedRealm(registry: String, realm: String, reason: String)
    /// A manifest parsed but declares something impossible: a negative or absurd blob size.
    case invalidManifest(url: String, reason: String)
    /// A `docker-credential-*` helper named by the Docker config could not give a credential.
    case credentialHelperFailed(helper: String, registry: String, reason: String)

    public var kind: ErrorKind {
        switch self {
        case .tooManyRequests(_, let retryAfter): return .transient(retryAfter: retryAfter)
        case .httpStatus(_, let status, _, _): return status >= 500 ? .transient(retryAfter: nil) : .permanent
        case .transport(_, let curlCode, _):
            return Self.permanentCurlCodes.contains(curlCode) ? .permanent : .transient(retryAfter: nil)
        case .digestMismatch, .sizeMismatch: return .transient(retryAfter: nil)
        case .unauthorized, .denied, .manifestUnknown, .nameUnknown, .blobUnknown, .sizeExceeded,
            .unsupportedMediaType, .invalidDocument, .platformNotFound, .unsupportedChallenge,
            .invalidCredentialsFile, .refusedRealm, .invalidManifest, .credentialHelperFailed:
            return .permanent
        }
    }

    /// curl failures that no retry can fix: unsupported protocol (1), malformed URL (3), a
    /// certificate that does not verify (60) and an unreadable CA file (77).
    static let permanentCurlCodes: Set<Int32> = [1, 3, 60, 77]

    public var description: String {
        switch self {
        case .unauthorized(let registry, let scope):
            return "registry \(registry): answered 401 UNAUTHORIZED for scope \(scope); "
                + "check $DOCKER_CONFIG/config.json or ~/.docker/config.json"
        case .denied(let registry, let scope):
            return "registry \(registry): answered 403 DENIED for scope \(scope); the account may not pull this repository"
        case .manifestUnknown(let reference):
            return "pull \(reference): manifest unknown to the registry; check the tag or digest"
        case .nameUnknown(let repository):
            return "pull \(repository): repository unknown to the registry; check the name"
        case .blobUnknown(let repository, let digest):
            return "pull \(repository): blob \(digest) unknown to the registry; the image was pushed incompletely"
        case .tooManyRequests(let url, let retryAfter):
            let wait = retryAfter.map { " (retry after \($0.wholeMilliseconds / 1000) s)" } ?? ""
            return "\(url): registry answered 429 too many requests\(wait); try again later"
        case .httpStatus(let url, let status, let code, let detail):
            let suffix = [code, detail].compactMap { $0 }.joined(separator: ": ")
            let remedy = status >= 500 ? "; try again later" : ""
            return "\(url): registry answered \(status)\(suffix.isEmpty ? "" : " " + suffix)\(remedy)"
        case .digestMismatch(let url, let expected, let actual):
            return "\(url): content hashes to \(actual), expected \(expected); the download was discarded, try again"
        case .sizeMismatch(let url, let expected, let actual):
            return "\(url): received \(actual) bytes, expected \(expected); the download was discarded, try again"
        case .sizeExceeded(let url, let limit):
            return "\(url): body larger than \(limit) bytes; refused, more than the manifest declares or image-worker accepts"
        case .transport(let url, let curlCode, let message):
            let remedy =
                curlCode == 1
                ? "image-worker follows only http and https (only https from a tls registry)"
                : "check the network and try again"
            return "\(url): transfer failed (curl \(curlCode)): \(message.lowercased()); \(remedy)"
        case .unsupportedMediaType(let url, let mediaType):
            return "\(url): media type \(mediaType) is not an oci or docker schema-2 manifest or index"
        case .invalidDocument(let url, let reason):
            return "\(url): document does not parse: \(reason)"
        case .platformNotFound(let reference, let platform, let available):
            let offered = available.map(\.description).joined(separator: ", ")
            return "pull \(reference): no manifest for platform \(platform); available: \(offered.isEmpty ? "none" : offered); "
                + "choose one with --platform"
        case .unsupportedChallenge(let registry, let challenge):
            return "registry \(registry): cannot answer authentication challenge \"\(challenge)\"; only Bearer and Basic are supported"
        case .invalidCredentialsFile(let path, let reason):
            return "credentials file \(path): \(reason); fix or remove it"
        case .refusedRealm(let registry, let realm, let reason):
            return "registry \(registry): refused token realm \(realm): \(reason)"
        case .invalidManifest(let url, let reason):
            return "\(url): invalid manifest: \(reason)"
        case .credentialHelperFailed(let helper, let registry, let reason):
            return "registry \(registry): credential helper \(helper) failed: \(reason); check credsStore/credHelpers in the docker config"
        }
    }
}

// MARK: - Mapping responses

extension RegistryError {
    /// The registry's JSON error body: `{"errors":[{"code":…,"message":…,"detail":…}]}`.
    struct ErrorBody: Decodable {
        struct Entry: Decodable {
            var code: String?
            var message: String?
        }

        var errors: [Entry]?
    }

    /// Maps a non-2xx answer to the case that names it.
    ///
    /// - Parameters:
    ///   - reference: the image being pulled; `digest` names a blob request.
    ///   - scope: the token scope in use, for 401/403.
    static func from(
        status: Int, body: Data, url: String, reference: ImageReference, digest: Digest?, scope: String,
        retryAfter: Duration?
    ) -> RegistryError {
        let entry = (try? JSONDecoder().decode(ErrorBody.self, from: body))?.errors?.first
        switch (entry?.code, status) {
        case ("MANIFEST_UNKNOWN", _): return .manifestUnknown(reference)
        case ("NAME_UNKNOWN", _): return .nameUnknown(repository: reference.repository)
        case ("BLOB_UNKNOWN", _) where digest != nil:
            return .blobUnknown(repository: reference.repository, digest: digest ?? Digest(sha256Hex: ""))
        case ("UNAUTHORIZED", _), (nil, 401): return .unauthorized(registry: reference.registry, scope: scope)
        case ("DENIED", _), (nil, 403): return .denied(registry: reference.registry, scope: scope)
        case ("TOOMANYREQUESTS", _), (_, 429): return .tooManyRequests(url: url, retryAfter: retryAfter)
        case (nil, 404):
            if let digest, !url.contains("/manifests/") {
                return .blobUnknown(repository: reference.repository, digest: digest)
            }
            return .manifestUnknown(reference)
        default:
            return .httpStatus(url: url, status: status, code: entry?.code, detail: entry?.message)
        }
    }

    /// The longest wait a `Retry-After` can ask for: the queue's backoff ceiling
    /// (``RetryPolicy``'s default 5 minutes). A larger value is taken as this.
    public static let retryAfterCeiling: Duration = .seconds(300)

    /// Parses `Retry-After` given in seconds, capped at ``retryAfterCeiling``.
    ///
    /// Only ASCII digits count: a negative value, garbage or an HTTP date is ignored (nil, the
    /// normal backoff applies); a number too large for any integer is the ceiling.
    static func parseRetryAfter(_ value: String?) -> Duration? {
        guard let value else { return nil }
        let digits = value.trimmingCharacters(in: .whitespaces)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let ceiling = retryAfterCeiling.components.seconds
        let seconds = Int64(digits).map { min($0, ceiling) } ?? ceiling
        return .seconds(seconds)
    }
}
