/// Bounds that stop a hostile or broken image from filling the disk or memory.
///
/// Checked while streaming, before anything past a limit is written. Bytes and entries are
/// counted over all layers of one image (one ``LayerModelBuilder``).
public struct LayerLimits: Sendable, Equatable {
    /// Sum of the declared (apparent) sizes of all regular files. Default 64 GiB.
    public var maxTotalBytes: Int64
    /// Number of tar entries, whiteouts included. Default 5,000,000.
    public var maxEntries: Int
    /// Length in bytes of an entry path, a symlink target or a hardlink target. Default 4,096.
    public var maxPathLength: Int

    /// The defaults: 64 GiB, 5 million entries, 4,096-byte paths.
    public static let `default` = LayerLimits(
        maxTotalBytes: 64 << 30, maxEntries: 5_000_000, maxPathLength: 4096)

    /// Limits with the given values.
    public init(maxTotalBytes: Int64, maxEntries: Int, maxPathLength: Int) {
        self.maxTotalBytes = maxTotalBytes
        self.maxEntries = maxEntries
        self.maxPathLength = maxPathLength
    }
}
