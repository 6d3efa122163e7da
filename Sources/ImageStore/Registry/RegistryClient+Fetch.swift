import Foundation
import Synchronization

/// A manifest or index as the registry served it, verified against its digest.
public struct FetchedManifest: Sendable {
    /// The digest the bytes hash to.
    public var digest: Digest
    /// From Content-Type, else the document's own `mediaType`.
    public var mediaType: String
    /// The exact bytes (their hash is the digest).
    public var data: Data
}

extension RegistryClient {
    /// Resolves a reference to the digest of what it names (the seed's `Resolve`).
    ///
    /// A digest reference resolves to itself without a request. A tag is resolved with HEAD and
    /// `Docker-Content-Digest`; a registry that omits the header is asked with GET and the body
    /// is hashed.
    ///
    /// - Throws: `RegistryError.manifestUnknown`, `.nameUnknown`, `.unauthorized`, `.transport`, …
    public func resolve(_ reference: ImageReference) async throws -> Digest {
        try await resolveDocument(reference).digest
    }

    /// ``resolve(_:)``, also returning the manifest when it had to be fetched to hash it, so the
    /// caller need not fetch it again.
    func resolveDocument(_ reference: ImageReference) async throws -> (digest: Digest, fetched: FetchedManifest?) {
        if let digest = reference.digest { return (digest, nil) }
        let url = url(reference, "manifests", reference.manifestReference)
        let request = HTTPRequest(
            method: .head, url: url, headers: [Self.acceptHeader], timeout: configuration.resolveTimeout)
        let response = try await withRetries {
            try await exchange(request, reference: reference, digest: nil, sink: nil)
        }
        if let header = response.header("docker-content-digest"), let digest = try? Digest(parsing: header) {
            return (digest, nil)
        }
        let fetched = try await fetchManifest(reference, target: reference.manifestReference)
        return (fetched.digest, fetched)
    }

    /// Fetches the manifest or index `digest` names and verifies the bytes hash to it.
    ///
    /// - Throws: `RegistryError.digestMismatch`, `.sizeExceeded` (over 4 MiB),
    ///   `.manifestUnknown`, `.unsupportedMediaType`, …
    public func fetchManifest(_ reference: ImageReference, digest: Digest) async throws -> FetchedManifest {
        let fetched = try await fetchManifest(reference, target: digest.description)
        guard fetched.digest == digest else {
            throw RegistryError.digestMismatch(
                url: url(reference, "manifests", digest.description), expected: digest, actual: fetched.digest)
        }
        return fetched
    }

    private func fetchManifest(_ reference: ImageReference, target: String) async throws -> FetchedManifest {
        let url = url(reference, "manifests", target)
        let request = HTTPRequest(
            url: url, headers: [Self.acceptHeader], timeout: configuration.resolveTimeout,
            maxBodySize: Int64(Self.documentLimit))
        let sink = BufferSink(limit: Self.documentLimit, url: url)
        let response = try await withRetries {
            try await exchange(request, reference: reference, digest: nil, sink: sink)
        }
        let data = sink.data
        let mediaType = try Self.mediaType(of: data, contentType: response.header("content-type"), url: url)
        return FetchedManifest(digest: SHA256.digest(of: data), mediaType: mediaType, data: data)
    }

    /// The media type of a manifest document: the document's own field, else Content-Type.
    ///
    /// - Throws: `RegistryError.unsupportedMediaType` for anything but the four manifest types.
    static func mediaType(of data: Data, contentType: String?, url: String) throws(RegistryError) -> String {
        struct Probe: Decodable {
            var mediaType: String?
            var manifests: [Descriptor]?
        }
        let probe = try? JSONDecoder().decode(Probe.self, from: data)
        let header = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) }
        var type = probe?.mediaType ?? header ?? ""
        if !MediaType.manifestAccept.contains(type), probe?.mediaType == nil {
            // OCI documents may omit mediaType; a generic Content-Type says nothing.
            type = probe?.manifests != nil ? MediaType.ociIndex : MediaType.ociManifest
        }
        guard MediaType.manifestAccept.contains(type) else { throw .unsupportedMediaType(url: url, mediaType: type) }
        return type
    }

    static var acceptHeader: String { "Accept: " + MediaType.manifestAccept.joined(separator: ", ") }

    /// Streams the blob `descriptor` names into `sink`, resuming an interrupted download with a
    /// Range request from the bytes already written, then checks size and SHA-256.
    ///
    /// On a mismatch the sink is discarded, so nothing unverified remains.
    ///
    /// - Parameter progress: called with the bytes written so far, from a transfer thread.
    /// - Throws: `RegistryError.digestMismatch` naming expected and actual, `.sizeMismatch`,
    ///   `.blobUnknown`, `.transport` after the retry budget, `CancellationError`.
    public func fetchBlob(
        _ reference: ImageReference, descriptor: Descriptor, into sink: any BlobSink,
        progress: (@Sendable (Int64) -> Void)? = nil
    ) async throws {
        let url = url(reference, "blobs", descriptor.digest.description)
        try ManifestLimits.check(descriptor, role: "blob", url: url)
        let download = BlobDownload(sink: sink, expectedSize: descriptor.size, url: url, progress: progress)
        do {
            try await withRetries {
                // The whole size, also for a ranged request: a server may answer 200 with all of it.
                var request = HTTPRequest(url: url, maxBodySize: descriptor.size)
                request.rangeStart = sink.count > 0 ? sink.count : nil
                _ = try await exchange(request, reference: reference, digest: descriptor.digest, sink: download)
                guard sink.count == descriptor.size else {
                    // A short body without a transport error: resume from where it stopped.
                    if sink.count < descriptor.size {
                        throw RegistryError.transport(
                            url: url, curlCode: 18, message: "body ended at \(sink.count) of \(descriptor.size) bytes")
                    }
                    throw RegistryError.sizeMismatch(url: url, expected: descriptor.size, actual: sink.count)
                }
            }
            let actual = try sink.digest()
            guard actual == descriptor.digest else {
                throw RegistryError.digestMismatch(url: url, expected: descriptor.digest, actual: actual)
            }
        } catch {
            sink.discard()
            throw error
        }
    }
}

/// Adapts a ``BlobSink`` to one exchange: restarts it when a ranged request got a full 200,
/// refuses bytes past the descriptor's size and reports progress.
private final class BlobDownload: ResponseSink {
    private let sink: any BlobSink
    private let expectedSize: Int64
    private let url: String
    private let progress: (@Sendable (Int64) -> Void)?
    private let pendingRangeCheck = Atomic<Bool>(false)

    init(sink: any BlobSink, expectedSize: Int64, url: String, progress: (@Sendable (Int64) -> Void)?) {
        self.sink = sink
        self.expectedSize = expectedSize
        self.url = url
        self.progress = progress
    }

    func begin(rangeStart: Int64?) {
        pendingRangeCheck.store(rangeStart != nil, ordering: .relaxed)
    }

    func receive(status: Int, bytes: UnsafeRawBufferPointer) throws {
        if pendingRangeCheck.exchange(false, ordering: .relaxed), status != 206 {
            try sink.reset()
        }
        let (total, overflow) = sink.count.addingReportingOverflow(Int64(bytes.count))
        guard !overflow, total <= expectedSize else {
            throw RegistryError.sizeMismatch(url: url, expected: expectedSize, actual: overflow ? .max : total)
        }
        try sink.write(bytes)
        progress?(sink.count)
    }
}
