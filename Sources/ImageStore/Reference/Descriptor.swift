/// An OCI content descriptor: what a manifest or index says about one blob.
public struct Descriptor: Hashable, Sendable, Codable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    /// Set on index entries.
    public var platform: Platform?
    public var annotations: [String: String]?
    /// Foreign-layer URLs; image-worker never fetches from them.
    public var urls: [String]?

    /// Creates a descriptor.
    public init(mediaType: String, digest: Digest, size: Int64, platform: Platform? = nil,
                annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.platform = platform
        self.annotations = annotations
        self.urls = nil
    }
}
