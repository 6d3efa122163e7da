import Foundation

/// An image whose manifest, config and layers are all in the content store, verified.
public struct PulledImage: Sendable {
    /// One layer: its descriptor and the verified blob file.
    public struct Layer: Sendable {
        public var descriptor: Descriptor
        public var path: URL
    }

    /// The reference as the user gave it, normalized.
    public var reference: ImageReference
    /// The digest of the index (manifest list) the reference named, when it named one.
    public var indexDigest: Digest?
    /// The digest of the platform's image manifest.
    public var manifestDigest: Digest
    /// The platform chosen (from the index entry, else from the config).
    public var platform: Platform
    public var manifest: Manifest
    public var configuration: ImageConfiguration
    /// Layers, base first.
    public var layers: [Layer]
    /// Blobs this pull transferred (0 when everything was already present).
    public var downloadedBlobs: Int

    /// Total size of the layer blobs, base first to top (what applying them reads).
    public var layerBytes: Int64 { layers.reduce(Int64(0)) { $0 &+ max(0, $1.descriptor.size) } }

    /// The digest the user's reference resolves to: the index's when there is one.
    public var resolvedDigest: Digest { indexDigest ?? manifestDigest }
}

/// What a pull reports while it runs.
public enum PullProgress: Sendable, Equatable {
    /// The reference resolved to `digest`.
    case resolved(digest: Digest)
    /// The layers to fetch: how many, their total size and how much of it was already present.
    case layersPlanned(count: Int, totalBytes: Int64, presentBytes: Int64)
    /// Bytes of layers in the store so far, out of the total.
    case bytes(done: Int64, total: Int64)
    /// A blob is in the store; `downloaded` is false when it was already there.
    case blobDone(digest: Digest, downloaded: Bool)
}

/// Receives ``PullProgress`` events, possibly from several tasks at once.
public typealias PullProgressHandler = @Sendable (PullProgress) -> Void
