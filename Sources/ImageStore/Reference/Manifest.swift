/// An OCI image manifest or Docker schema-2 manifest: one config and ordered layers.
public struct Manifest: Hashable, Sendable, Codable {
    public var schemaVersion: Int
    /// Absent in some OCI manifests; the HTTP Content-Type then tells.
    public var mediaType: String?
    public var config: Descriptor
    /// Layers, base first: the order they are applied in.
    public var layers: [Descriptor]
    public var annotations: [String: String]?
}
