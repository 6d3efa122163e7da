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
    /// ext4 and erofs: append a dm-verity hash tree after the filesystem (the default; see
    /// ``Verity``). A cpio archive is unpacked into RAM by the kernel and never gets one.
    public var verity: Bool
    /// The dm-verity salt; ``ImageManager`` sets ``Verity/salt(manifestDigest:)`` for every
    /// image it builds. `nil` (`export-tree`) derives one from the output file name with
    /// ``Verity/salt(name:)``. At most 256 bytes.
    public var veritySalt: [UInt8]?

    /// Options with the defaults: no cpio compression, lz4hc erofs at the default level,
    /// dm-verity on for ext4 and erofs.
    public init(
        compression: Compression = .none, erofsCompressed: Bool = true, erofsLevel: Int? = nil,
        identity: DiskIdentity? = nil, verity: Bool = true, veritySalt: [UInt8]? = nil
    ) {
        self.compression = compression
        self.erofsCompressed = erofsCompressed
        self.erofsLevel = erofsLevel
        self.identity = identity
        self.verity = verity
        self.veritySalt = veritySalt
    }

    /// Whether a disk of `format` gets a dm-verity tree with these options.
    public func appendsVerity(for format: DiskFormat) -> Bool { verity && format != .cpio }

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
        if let salt = veritySalt, salt.count > 256 {
            throw .invalidOptions(format: format, reason: "a dm-verity salt of \(salt.count) bytes is over 256")
        }
    }
}
