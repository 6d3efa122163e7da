import Foundation

/// How ``DiskExporter`` builds a disk; every field has a default that suits the worker.
public struct ExportOptions: Sendable, Equatable {
    /// Compression of a cpio archive. ext4 and erofs accept only ``none``.
    public enum Compression: String, Sendable, CaseIterable, Codable {
        /// The bare newc archive.
        case none
        /// `gzip -n`: no name or time stamp, so the output stays reproducible.
        case gzip
        /// `zstd -T0`, multi-threaded; the kernel needs CONFIG_RD_ZSTD.
        case zstd
    }

    /// Compression of a cpio archive; `.none` for the other formats.
    public var compression: Compression
    /// erofs only: compress with lz4hc (`true`, the default) or store uncompressed.
    public var erofsCompressed: Bool
    /// erofs only: lz4hc level 0…12; `nil` uses mkfs.erofs's default (9).
    public var erofsLevel: Int?
    /// The filesystem UUID and ext4 hash seed; ``ImageManager`` sets
    /// ``DiskIdentity/init(manifestDigest:format:)`` for every image it builds. `nil` (a bare
    /// tree, `export-tree`) derives one from the output file name with ``DiskIdentity/init(name:)``.
    public var identity: DiskIdentity?

    /// Options with the defaults: no cpio compression, lz4hc erofs at the default level.
    public init(
        compression: Compression = .none, erofsCompressed: Bool = true, erofsLevel: Int? = nil,
        identity: DiskIdentity? = nil
    ) {
        self.compression = compression
        self.erofsCompressed = erofsCompressed
        self.erofsLevel = erofsLevel
        self.identity = identity
    }

    /// Checks that the options make sense for `format`.
    ///
    /// - Throws: ``DiskError/invalidOptions(format:reason:)``.
    public func validate(for format: DiskFormat) throws(DiskError) {
        if format != .cpio && compression != .none {
            throw .invalidOptions(format: format, reason: "compression \(compression.rawValue) applies to cpio only")
        }
        if let level = erofsLevel {
            guard format == .erofs, erofsCompressed else {
                throw .invalidOptions(format: format, reason: "an erofs level needs compressed erofs")
            }
            guard (0...12).contains(level) else {
                throw .invalidOptions(format: format, reason: "erofs lz4hc level \(level) is outside 0...12")
            }
        }
    }
}
