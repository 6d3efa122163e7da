/// The kind of disk file a rootfs becomes.
///
/// Raw values equal the `format` column of schema.sql (`images.format`, `disks.format`) and the
/// file extension under `disks/`.
public enum DiskFormat: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// ext4 without a journal, sized to fit its content (read-write capable).
    case ext4
    /// erofs, read-only, lz4hc-compressed by default.
    case erofs
    /// cpio newc archive usable as a Linux initramfs, optionally gzip- or zstd-compressed.
    case cpio

    /// The file extension of disks in this format.
    public var fileExtension: String { rawValue }

    public var description: String { rawValue }

}
