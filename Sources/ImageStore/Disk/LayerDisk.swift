/// One per-layer erofs disk of `erofs-layers` (``LayerDiskStore``), as a VM platform needs it.
public struct LayerDisk: Sendable, Equatable {
    /// The layer's diff_id (digest of its uncompressed tar): the disk's key, unless ``path``
    /// is a disk over the lower layers (`….chain[.verity].erofs`), keyed by the ChainID.
    public var diffID: Digest
    /// Absolute path of the disk file.
    public var path: String
    /// Bytes the file occupies (`st_blocks × 512`).
    public var allocatedBytes: UInt64
    /// The file's size.
    public var apparentBytes: UInt64
    /// Root hash, salt and hash offset of its dm-verity tree; `nil` without one.
    public var verity: VerityInfo?
    /// `true` when this call converted the layer, `false` when the disk was there already.
    public var converted: Bool

    public init(
        diffID: Digest, path: String, allocatedBytes: UInt64, apparentBytes: UInt64, verity: VerityInfo?, converted: Bool
    ) {
        self.diffID = diffID
        self.path = path
        self.allocatedBytes = allocatedBytes
        self.apparentBytes = apparentBytes
        self.verity = verity
        self.converted = converted
    }
}
