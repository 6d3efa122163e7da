import Foundation

/// A pull whose layers are still downloading: the image (manifest and config are in the store)
/// and when each layer arrives.
public struct StreamingPull: Sendable {
    /// The image; its layer paths exist once ``arrivals`` says so.
    public let image: PulledImage
    /// Per layer index, when its blob is in the store.
    public let arrivals: LayerArrivals
    private let downloads: Task<Int, any Error>
    private let tag: @Sendable () async throws -> Void

    init(image: PulledImage, arrivals: LayerArrivals, downloads: Task<Int, any Error>, tag: @escaping @Sendable () async throws -> Void) {
        self.image = image
        self.arrivals = arrivals
        self.downloads = downloads
        self.tag = tag
    }

    /// Waits for every download and records the image in index.json, as ``ImagePuller/pull(_:platform:includeLayers:progress:)`` does.
    ///
    /// - Returns: the image with ``PulledImage/downloadedBlobs`` counted.
    /// - Throws: the first download's failure.
    public func finish() async throws -> PulledImage {
        let downloaded = try await downloads.value
        try await tag()
        var image = self.image
        image.downloadedBlobs += downloaded
        return image
    }

    /// Stops the downloads (after a failed build); a blob already stored stays.
    public func cancel() {
        downloads.cancel()
    }
}

extension ImagePuller {
    /// Pulls `reference` like ``pull(_:platform:includeLayers:progress:)``, but returns as soon
    /// as the manifest and config are in the store, with the layers downloading in manifest
    /// order (`concurrency` at a time) in the background: a builder applies layer N while its
    /// own bytes and layers N+1… download (``LayerArrivals``, ``BlobFollow``). Each blob is verified and stored exactly as a
    /// normal pull stores it, so the next image finds it.
    ///
    /// - Returns: the image and its arrivals; call ``StreamingPull/finish()`` after the build
    ///   (or ``StreamingPull/cancel()`` when it failed).
    /// - Throws: what resolving the manifest and config throws (`RegistryError`, `ContentStoreError`).
    public func pullStreaming(
        _ reference: ImageReference, platform: Platform = .current, progress: PullProgressHandler? = nil
    ) async throws -> StreamingPull {
        let image = try await pull(reference, platform: platform, includeLayers: false, progress: progress)
        let layers = image.manifest.layers
        let arrivals = LayerArrivals(count: layers.count)
        // One download per blob, in the order the layers are applied; indices that share it.
        var order: [Digest] = []
        var indices: [Digest: [Int]] = [:]
        var descriptors: [Digest: Descriptor] = [:]
        for (index, layer) in layers.enumerated() {
            if indices[layer.digest] == nil {
                order.append(layer.digest)
                descriptors[layer.digest] = layer
            }
            indices[layer.digest, default: []].append(index)
        }
        let size = { (digest: Digest) in max(0, descriptors[digest]?.size ?? 0) }
        let total = order.reduce(Int64(0)) { $0 &+ size($1) }
        let present = order.filter { store.has($0) }.reduce(Int64(0)) { $0 &+ size($1) }
        progress?(.layersPlanned(count: order.count, totalBytes: total, presentBytes: present))
        let tracker = ByteTracker(total: total, present: present, progress: progress)
        let puller = self
        let (blobs, layerIndices, byDigest) = (order, indices, descriptors)
        let downloads = Task { () async throws -> Int in
            do {
                return try await withThrowingTaskGroup(of: Int.self) { group in
                    var next = blobs.makeIterator()
                    func startNext() -> Bool {
                        guard let digest = next.next(), let descriptor = byDigest[digest] else { return false }
                        group.addTask {
                            let indices = layerIndices[digest] ?? []
                            let downloaded = try await puller.storeBlob(
                                reference, descriptor, onStart: { arrivals.started(indices, follow: $0) }
                            ) { done in
                                tracker.update(digest, done: done)
                            }
                            arrivals.arrived(layerIndices[digest] ?? [], at: puller.store.path(of: digest))
                            progress?(.blobDone(digest: digest, downloaded: downloaded))
                            return downloaded ? 1 : 0
                        }
                        return true
                    }
                    for _ in 0..<puller.concurrency where !startNext() { break }
                    var count = 0
                    while let downloaded = try await group.next() {
                        count += downloaded
                        _ = startNext()
                    }
                    return count
                }
            } catch {
                arrivals.fail(error)
                throw error
            }
        }
        let tag: @Sendable () async throws -> Void = {
            guard try puller.store.importedDigest(named: reference) == nil else { return }
            let top = image.resolvedDigest
            let data = try puller.store.data(of: top)
            let mediaType = try RegistryClient.mediaType(of: data, contentType: nil, url: puller.store.path(of: top).path)
            var entry = Descriptor(mediaType: mediaType, digest: top, size: Int64(data.count))
            entry.platform = image.indexDigest == nil ? image.platform : nil
            try await puller.store.tag(entry, name: reference.description)
        }
        return StreamingPull(image: image, arrivals: arrivals, downloads: downloads, tag: tag)
    }

    /// Puts one blob into the store unless present; `onStart` gets the bytes to read while they
    /// arrive. - Returns: whether it was downloaded.
    private func storeBlob(
        _ reference: ImageReference, _ descriptor: Descriptor, onStart: @Sendable (BlobFollow) -> Void,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws -> Bool {
        if store.has(descriptor.digest) { return false }
        let writer = try store.makeWriter(followed: true)
        do {
            if let follow = writer.follow { onStart(follow) }
            try await client.fetchBlob(reference, descriptor: descriptor, into: writer, progress: progress)
            try writer.flush()
            writer.follow?.endOfData()
        } catch {
            // Wakes a reader of the bytes: they are void.
            writer.discard()
            throw error
        }
        try await store.commit(writer, as: descriptor.digest)
        return true
    }
}
