/// What an export produced.
public struct ExportResult: Sendable, Equatable {
    /// The disk file (for `erofs-layers` the list of layer disks), at its final path.
    public let path: String
    /// Bytes the file occupies on the host filesystem (`st_blocks × 512`; less than
    /// ``apparentBytes`` for a sparse ext4 file).
    public let allocatedBytes: UInt64
    /// The file's size (`st_size`): what a VM sees as the disk size.
    public let apparentBytes: UInt64
    /// Wall time of the export.
    public let duration: Duration
    /// The dm-verity root hash, salt and hash offset of an ext4 or erofs disk built with
    /// ``ExportOptions/verity``; `nil` without a tree (cpio, or verity off).
    public let verity: VerityInfo?
    /// `erofs-layers`: the layer disks, base first (``path`` is the JSON list of them;
    /// ``allocatedBytes`` and ``apparentBytes`` are their sums); `nil` for the other formats.
    public let layers: [LayerDisk]?

    /// Collects the figures of one export.
    public init(
        path: String, allocatedBytes: UInt64, apparentBytes: UInt64, duration: Duration, verity: VerityInfo? = nil,
        layers: [LayerDisk]? = nil
    ) {
        self.path = path
        self.allocatedBytes = allocatedBytes
        self.apparentBytes = apparentBytes
        self.duration = duration
        self.verity = verity
        self.layers = layers
    }
}
