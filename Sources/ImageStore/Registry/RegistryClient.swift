import Foundation
import Synchronization

/// Where a blob download writes. ContentStore's blob writer conforms; the client never holds a
/// blob in memory.
///
/// Calls arrive from one transfer at a time, in order.
public protocol BlobSink: AnyObject, Sendable {
    /// Bytes written so far: where a resumed download asks the server to continue.
    var count: Int64 { get }
    /// Appends bytes (and hashes them).
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Drops everything written, for a server that ignored a Range request.
    func reset() throws
    /// The SHA-256 of everything written.
    func digest() throws -> Digest
    /// Deletes what was written; the sink is unusable afterwards.
    func discard()
}

/// A client for the OCI distribution API over libcurl: resolve tags, fetch manifests and
/// stream blobs, with anonymous, Basic and Bearer-token authentication and bounded retries.
///
/// Stateless apart from the shared ``TokenCache``; copies share it.
public struct RegistryClient: Sendable {
    /// Connection, TLS, retry and credential settings.
    public let configuration: RegistryConfiguration
    /// Tokens and Basic headers per registry and scope.
    public let tokens: TokenCache

    /// Manifests and token answers are buffered up to this size.
    static let documentLimit = 4 * 1024 * 1024
    /// CURLE_FILESIZE_EXCEEDED: the announced body is larger than ``HTTPRequest/maxBodySize``.
    static let fileSizeExceeded: Int32 = 63

    /// Creates a client.
    public init(configuration: RegistryConfiguration = RegistryConfiguration(), tokens: TokenCache = TokenCache()) {
        self.configuration = configuration
        self.tokens = tokens
    }

    /// The token scope for pulling from the reference's repository.
    static func scope(_ reference: ImageReference) -> String { "repository:\(reference.path):pull" }

    /// `scheme://host/v2/<path>/<kind>/<ref>`.
    func url(_ reference: ImageReference, _ kind: String, _ target: String) -> String {
        "\(configuration.scheme(for: reference.registry))://\(reference.apiHost)/v2/\(reference.path)/\(kind)/\(target)"
    }

    // MARK: - Retries

    /// Runs `operation` until it succeeds, a permanent error occurs or the retry budget is spent.
    ///
    /// Transport errors, 5xx and 429 are retried with exponential backoff and jitter; a
    /// Retry-After above the longest single delay ends the retries at once. Digest and size
    /// mismatches are not retried here: the queue retries the whole job.
    func withRetries<T: Sendable>(_ operation: () async throws -> T) async throws -> T {
        let policy = configuration.retry
        var attempt = 1
        var waited = Duration.zero
        while true {
            do {
                return try await operation()
            } catch let error as RegistryError {
                guard attempt < policy.maxAttempts, case .transient(let retryAfter) = error.kind else { throw error }
                switch error {
                case .digestMismatch, .sizeMismatch: throw error
                default: break
                }
                if let retryAfter, retryAfter > policy.maxDelay { throw error }
                let delay = policy.delay(afterAttempt: attempt, retryAfter: retryAfter)
                guard waited + delay <= policy.maxTotalDelay else { throw error }
                try await policy.clock.sleep(for: delay)
                waited += delay
                attempt += 1
            }
        }
    }

    // MARK: - One authorized exchange

    /// Sends `request` with the cached authorization for the reference's scope; on a 401
    /// answers the challenge once and sends it again.
    ///
    /// - Returns: a 2xx response (its body went to `sink`).
    /// - Throws: `RegistryError` mapped from the status and the registry's error code.
    func exchange(
        _ request: HTTPRequest, reference: ImageReference, digest: Digest?, sink: (any ResponseSink)?
    ) async throws -> HTTPResponse {
        let scope = Self.scope(reference)
        var authorization = await tokens.authorization(registry: reference.registry, scope: scope)
        var answeredChallenge = false
        while true {
            var sent = request
            if let authorization { sent.headers.append("Authorization: \(authorization.value)") }
            try sink?.begin(rangeStart: sent.rangeStart)
            let response = try await transfer(sent, registry: reference.registry, sink: sink)
            if (200..<300).contains(response.status) { return response }
            if response.status == 401 && !answeredChallenge {
                answeredChallenge = true
                authorization = try await authenticate(
                    challenge: response.header("www-authenticate"), reference: reference, scope: scope)
                continue
            }
            if response.status == 401 { await tokens.remove(registry: reference.registry, scope: scope) }
            throw RegistryError.from(
                status: response.status, body: response.errorBody, url: request.url, reference: reference,
                digest: digest, scope: scope, retryAfter: RegistryError.parseRetryAfter(response.header("retry-after")))
        }
    }

    /// Performs one request on the blocking executor; cancelling the task aborts the transfer.
    func transfer(_ request: HTTPRequest, registry: String, sink: (any ResponseSink)?) async throws -> HTTPResponse {
        try Task.checkCancellation()
        let options = configuration.transferOptions(for: registry)
        let flag = CancellationFlag()
        do {
            return try await withTaskCancellationHandler {
                try await BlockingExecutor.shared.run {
                    let handle = try CurlHandle(url: request.url)
                    return try handle.perform(request, options: options, cancel: flag) { status, bytes in
                        try sink?.receive(status: status, bytes: bytes)
                    }
                }
            } onCancel: {
                flag.cancel()
            }
        } catch RegistryError.transport(let url, Self.fileSizeExceeded, _) {
            // Content-Length above CURLOPT_MAXFILESIZE_LARGE: refused before any byte.
            throw RegistryError.sizeExceeded(url: url, limit: Int(request.maxBodySize ?? 0))
        }
    }
}

/// Receives the body of one exchange. Implementations are Sendable because the transfer runs
/// on a blocking-executor thread while the task waits.
protocol ResponseSink: AnyObject, Sendable {
    /// Called before each attempt with the Range start it sends.
    func begin(rangeStart: Int64?) throws
    /// Called with each chunk of a 2xx body.
    func receive(status: Int, bytes: UnsafeRawBufferPointer) throws
}

/// Buffers a small body (manifest, token answer) up to a limit.
final class BufferSink: ResponseSink {
    private let buffer = Mutex(Data())
    private let limit: Int
    private let url: String

    init(limit: Int, url: String) {
        self.limit = limit
        self.url = url
    }

    var data: Data { buffer.withLock { $0 } }

    func begin(rangeStart: Int64?) { buffer.withLock { $0 = Data() } }

    func receive(status: Int, bytes: UnsafeRawBufferPointer) throws {
        try buffer.withLock { data throws(RegistryError) in
            guard data.count + bytes.count <= limit else { throw .sizeExceeded(url: url, limit: limit) }
            data.append(contentsOf: bytes)
        }
    }
}
