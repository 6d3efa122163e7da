/// Media types of the OCI image spec and Docker's schema 2 that image-worker understands.
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    /// The Accept header for manifest requests: all four types, or the distribution registry
    /// answers 404 for OCI manifests and down-converts Docker ones to schema 1.
    public static let manifestAccept = [ociManifest, ociIndex, dockerManifest, dockerManifestList]

    /// `true` for an OCI index or a Docker manifest list.
    public static func isIndex(_ type: String) -> Bool { type == ociIndex || type == dockerManifestList }

    /// `true` for an OCI or Docker schema-2 image manifest.
    public static func isManifest(_ type: String) -> Bool { type == ociManifest || type == dockerManifest }

    /// The compression of a layer media type, or `nil` when it is not a layer we can apply.
    public static func layerCompression(_ type: String) -> LayerCompression? {
        switch type {
        case ociLayer, "application/vnd.docker.image.rootfs.diff.tar": return LayerCompression.none
        case ociLayerGzip, dockerLayerGzip, ociLayerNondistributableGzip, dockerForeignLayerGzip: return .gzip
        case ociLayerZstd: return .zstd
        default: return nil
        }
    }
}

/// How a layer tar is compressed.
public enum LayerCompression: String, Sendable, Codable {
    case none
    case gzip
    case zstd
}
