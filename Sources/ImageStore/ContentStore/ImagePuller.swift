import Foundation
import Synchronization

/// Pulls an image from a registry into the content store (the Go original's `Pull`).
///
/// Resolve the reference, fetch the manifest (choosing the platform from an index), the config
/// and the layers; a blob already in the store is never downloaded again, so pulling a tag and
/// then the same image by digest transfers nothing the second time.
public struct ImagePuller: Sendable {
    public let client: RegistryClient
    public let store: ContentStore
    /// Layers downloaded at once.
    public let concurrency: Int

    /// Creates a puller.
    public init(client: RegistryClient, store: ContentStore, concurrency: Int = 3) {
        self.client = client
        self.store = store
        self.concurrency = max(1, concurrency)
    }

    /// Pulls `reference` for `platform` and records it in index.json under its normalized name.
    ///
    /// A tag that `import` recorded in index.json resolves to the imported digest without a
    /// request (``ContentStore/importedDigest(named:)``); everything it names is in the store,
    /// so such a pull is offline.
    ///
    /// With `includeLayers` false only manifests and config are fetched (for `inspect`): the
    /// layer paths of the result may not exist and index.json is left alone.
    ///
    /// - Returns: the image with both digests (index and platform manifest) and its layer files.
    /// - Throws: `RegistryError` (`.manifestUnknown`, `.unauthorized`, `.platformNotFound`,
    ///   `.digestMismatch`, `.transport`, …) or `ContentStoreError.fileSystem`.
    public func pull(
        _ reference: ImageReference, platform: Platform = .current, includeLayers: Bool = true,
        progress: PullProgressHandler? = nil
    ) async throws -> PulledImage {
        // An imported name resolves from the store, never the registry (docs/registry.md).
        let imported = try store.importedDigest(named: reference)
        let (topDigest, prefetched) =
            if let imported { (imported, FetchedManifest?.none) } else { try await client.resolveDocument(reference) }
        progress?(.resolved(digest: topDigest))
        let downloads = Counter()
        let top = try await document(reference, digest: topDigest, prefetched: prefetched, downloads: downloads)

        var indexDigest: Digest?
        var chosenPlatform = platform
        var manifestDigest = topDigest
        var manifestData = top.data
        if MediaType.isIndex(top.mediaType) {
            let index = try decode(Index.self, top.data, reference, topDigest)
            guard let entry = index.manifest(for: platform) else {
                throw RegistryError.platformNotFound(
                    reference, platform: platform, available: index.manifests.compactMap(\.platform))
            }
            indexDigest = topDigest
            manifestDigest = entry.digest
            chosenPlatform = entry.platform ?? platform
            let fetched = try await document(reference, digest: entry.digest, downloads: downloads)
            guard MediaType.isManifest(fetched.mediaType) else {
                throw RegistryError.unsupportedMediaType(url: reference.description, mediaType: fetched.mediaType)
            }
            manifestData = fetched.data
        }
        let manifest = try decode(Manifest.self, manifestData, reference, manifestDigest)
        try ManifestLimits.check(manifest, url: "\(reference.repository)@\(manifestDigest)")
        for layer in manifest.layers where MediaType.layerCompression(layer.mediaType) == nil {
            throw RegistryError.unsupportedMediaType(url: reference.description, mediaType: layer.mediaType)
        }

        if try await fetch(reference, manifest.config, progress: nil) { downloads.add() }
        let configuration = try decode(
            ImageConfiguration.self, try store.data(of: manifest.config.digest), reference, manifest.config.digest)
        if indexDigest == nil, let os = configuration.os, let architecture = configuration.architecture {
            chosenPlatform = Platform(os: os, architecture: architecture, variant: configuration.variant)
        }

        if includeLayers {
            try await fetchLayers(reference, manifest.layers, downloads: downloads, progress: progress)
        }
        if includeLayers && imported == nil {
            var entry = Descriptor(mediaType: top.mediaType, digest: topDigest, size: Int64(top.data.count))
            entry.platform = indexDigest == nil ? chosenPlatform : nil
            try await store.tag(entry, name: reference.description)
        }
        return PulledImage(
            reference: reference, indexDigest: indexDigest, manifestDigest: manifestDigest, platform: chosenPlatform,
            manifest: manifest, configuration: configuration,
            layers: manifest.layers.map { PulledImage.Layer(descriptor: $0, path: store.path(of: $0.digest)) },
            downloadedBlobs: downloads.value)
    }

    // MARK: - Steps

    /// A manifest or index: from the store when present, else fetched, verified and stored.
    private func document(
        _ reference: ImageReference, digest: Digest, prefetched: FetchedManifest? = nil, downloads: Counter
    ) async throws -> (data: Data, mediaType: String) {
        if store.has(digest) {
            let data = try store.data(of: digest)
            let mediaType = try RegistryClient.mediaType(of: data, contentType: nil, url: store.path(of: digest).path)
            return (data, mediaType)
        }
        let fetched: FetchedManifest
        if let prefetched, prefetched.digest == digest {
            fetched = prefetched
        } else {
            fetched = try await client.fetchManifest(reference, digest: digest)
        }
        try await store.write(fetched.data)
        downloads.add()
        return (fetched.data, fetched.mediaType)
    }

    /// Downloads the missing layers, `concurrency` at a time.
    private func fetchLayers(
        _ reference: ImageReference, _ layers: [Descriptor], downloads: Counter, progress: PullProgressHandler?
    ) async throws {
        let unique = Dictionary(layers.map { ($0.digest, $0) }, uniquingKeysWith: { first, _ in first }).values
            .sorted { $0.digest < $1.digest }
        let total = unique.reduce(Int64(0)) { $0 + $1.size }
        let present = unique.filter { store.has($0.digest) }.reduce(Int64(0)) { $0 + $1.size }
        progress?(.layersPlanned(count: unique.count, totalBytes: total, presentBytes: present))
        let tracker = ByteTracker(total: total, present: present, progress: progress)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = unique.makeIterator()
            func startNext() -> Bool {
                guard let layer = next.next() else { return false }
                group.addTask {
                    let downloaded = try await fetch(reference, layer) { done in
                        tracker.update(layer.digest, done: done)
                    }
                    if downloaded { downloads.add() }
                    progress?(.blobDone(digest: layer.digest, downloaded: downloaded))
                }
                return true
            }
            for _ in 0..<concurrency where !startNext() { break }
            while try await group.next() != nil { _ = startNext() }
        }
    }

    /// Puts one blob into the store unless present.
    ///
    /// - Returns: whether it was downloaded.
    private func fetch(
        _ reference: ImageReference, _ descriptor: Descriptor, progress: (@Sendable (Int64) -> Void)?
    ) async throws -> Bool {
        if store.has(descriptor.digest) { return false }
        let writer = try store.makeWriter()
        try await client.fetchBlob(reference, descriptor: descriptor, into: writer, progress: progress)
        try await store.commit(writer, as: descriptor.digest)
        return true
    }

    private func decode<T: Decodable>(_ type: T.Type, _ data: Data, _ reference: ImageReference, _ digest: Digest)
        throws(RegistryError) -> T
    {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw .invalidDocument(url: "\(reference.repository)@\(digest)", reason: "\(error)")
        }
    }
}

/// A count shared by the tasks of one pull.
private final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func add() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// Sums the bytes of parallel layer downloads and reports at most every MiB (also used by
/// ImagePuller+Streaming).
final class ByteTracker: Sendable {
    private struct State {
        var perBlob: [Digest: Int64] = [:]
        var lastReported: Int64 = 0
    }

    private let state = Mutex(State())
    private let total: Int64
    private let present: Int64
    private let progress: PullProgressHandler?

    init(total: Int64, present: Int64, progress: PullProgressHandler?) {
        self.total = total
        self.present = present
        self.progress = progress
    }

    func update(_ digest: Digest, done: Int64) {
        guard let progress else { return }
        let report: Int64? = state.withLock { state in
            state.perBlob[digest] = done
            let sum = present + state.perBlob.values.reduce(0, +)
            guard sum - state.lastReported >= 1 << 20 || sum == total else { return nil }
            state.lastReported = sum
            return sum
        }
        if let report { progress(.bytes(done: report, total: total)) }
    }
}
