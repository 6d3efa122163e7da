/// An OCI image index or Docker manifest list: one manifest per platform.
public struct Index: Hashable, Sendable, Codable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    /// Creates an index.
    public init(schemaVersion: Int = 2, mediaType: String? = MediaType.ociIndex, manifests: [Descriptor],
                annotations: [String: String]? = nil) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }

    /// The first manifest that can run on `platform`, skipping attestation entries.
    public func manifest(for platform: Platform) -> Descriptor? {
        manifests.first { entry in
            guard MediaType.isManifest(entry.mediaType), let offered = entry.platform else { return false }
            return platform.matches(offered)
        }
    }
}
