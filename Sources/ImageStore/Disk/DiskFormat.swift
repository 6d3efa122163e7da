/// The kind of disk file a rootfs becomes.
///
/// Raw values equal the `format` column of schema.sql (`images.format`, `artifacts.format`).
public enum DiskFormat: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// ext4 without a journal, sized to fit its content (read-write capable).
    case ext4
    /// erofs, read-only, lz4hc-compressed by default.
    case erofs
    /// cpio newc archive usable as a Linux initramfs, optionally gzip- or zstd-compressed.
    case cpio
    /// One erofs disk per layer, each an overlayfs lower directory shared by every image with
    /// that layer (``LayerDiskStore``); the artifact is a JSON list of them, base first
    /// (``ArtifactLayer``).
    case erofsLayers = "erofs-layers"

    /// The file extension of the artifact file under `disks/`: the disk itself, or for
    /// ``erofsLayers`` the JSON list of its layer disks.
    public var fileExtension: String { self == .erofsLayers ? "erofs-layers.json" : rawValue }

    /// `true` for the formats written as one disk from the merged model (ext4, erofs, cpio).
    public var isSingleDisk: Bool { self != .erofsLayers }

    /// ext4, erofs and cpio: what a directory tree or a merged model can become.
    public static let singleDiskFormats = allCases.filter(\.isSingleDisk)

    public var description: String { rawValue }

    /// The formats, for messages: `ext4, erofs, cpio or erofs-layers`.
    public static let spelledOut = "ext4, erofs, cpio or erofs-layers"
}
