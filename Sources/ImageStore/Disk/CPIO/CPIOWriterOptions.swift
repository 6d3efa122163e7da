/// How ``CPIOWriter`` writes an archive: compression and the cap on materialized holes.
public struct CPIOWriterOptions: Sendable, Equatable {
    /// The default ``maxMaterializedZeroBytes``: 1 GiB.
    public static let defaultMaxMaterializedZeroBytes: Int64 = 1 << 30

    /// `none`, `gzip -n` or `zstd -T0`, as for every cpio export.
    public var compression: ExportOptions.Compression
    /// The most zero bytes the holes of sparse files may add to the archive, all files together
    /// (a hardlinked file once). newc cannot describe a hole, so every hole is written out as
    /// zeros; a 5 KiB layer can declare a 60 GB sparse file, and this cap makes such an image
    /// fail at once with ``DiskError/sparseZerosOverLimitForCpio(path:zeroBytes:limit:)``
    /// instead of writing gigabytes of zeros. Zero bytes a file stores as data do not count.
    public var maxMaterializedZeroBytes: Int64

    /// Options: no compression and a 1 GiB cap on materialized holes unless told otherwise.
    public init(
        compression: ExportOptions.Compression = .none,
        maxMaterializedZeroBytes: Int64 = CPIOWriterOptions.defaultMaxMaterializedZeroBytes
    ) {
        self.compression = compression
        self.maxMaterializedZeroBytes = maxMaterializedZeroBytes
    }
}
