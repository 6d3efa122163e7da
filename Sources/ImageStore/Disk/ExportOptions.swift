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

    /// The compressor of compressed erofs.
    public enum ErofsCompressor: String, Sendable, CaseIterable, Codable {
        /// LZ4 (liblz4's fast mode): quicker to build, larger.
        case lz4
        /// LZ4HC at ``ExportOptions/erofsLevel``: the default, as mkfs.erofs's `-zlz4hc`.
        case lz4hc
    }

    /// Compression of a cpio archive; `.none` for the other formats.
    public var compression: Compression
    /// erofs only: compress with ``erofsCompressor`` (`true`, the default) or store
    /// uncompressed (plain blocks, the last partial block inline).
    public var erofsCompressed: Bool
    /// erofs only: LZ4HC (the default) or LZ4, when ``erofsCompressed``.
    public var erofsCompressor: ErofsCompressor
    /// erofs only: lz4hc level 0…12; `nil` and 0 use liblz4's (and mkfs.erofs's) default, 9.
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
        compression: Compression = .none, erofsCompressed: Bool = true, erofsCompressor: ErofsCompressor = .lz4hc,
        erofsLevel: Int? = nil, identity: DiskIdentity? = nil, verity: Bool = true, veritySalt: [UInt8]? = nil
    ) {
        self.compression = compression
        self.erofsCompressed = erofsCompressed
        self.erofsCompressor = erofsCompressor
        self.erofsLevel = erofsLevel
        self.identity = identity
        self.verity = verity
        self.veritySalt = veritySalt
    }

    /// Whether a disk of `format` gets a dm-verity tree with these options.
    public func appendsVerity(for format: DiskFormat) -> Bool { verity && format != .cpio }

    /// The salt of the dm-verity tree a disk of `format` at `output` gets, or `nil` for none:
    /// ``veritySalt``, else ``Verity/salt(name:)`` of the output's file name.
    func verityTreeSalt(for format: DiskFormat, output: URL) -> [UInt8]? {
        guard appendsVerity(for: format) else { return nil }
        return veritySalt ?? Verity.salt(name: output.lastPathComponent)
    }

    /// The compression of ``EROFSWriter`` these options ask for.
    var erofsWriterCompression: EROFSWriterOptions.Compression {
        guard erofsCompressed else { return .none }
        switch erofsCompressor {
        case .lz4: return .lz4
        case .lz4hc:
            let level = erofsLevel ?? 0
            return .lz4hc(level: level == 0 ? Self.defaultErofsLevel : level)
        }
    }

    /// The lz4hc level used when none is given (liblz4's `LZ4HC_CLEVEL_DEFAULT`).
    public static let defaultErofsLevel = 9

    /// Checks that the options make sense for `format`.
    ///
    /// - Throws: ``DiskError/invalidOptions(format:reason:)``.
    public func validate(for format: DiskFormat) throws(DiskError) {
        if format != .cpio && compression != .none {
            throw .invalidOptions(format: format, reason: "compression \(compression.rawValue) applies to cpio only")
        }
        if let level = erofsLevel {
            guard format == .erofs || format == .erofsLayers, erofsCompressed, erofsCompressor == .lz4hc else {
                throw .invalidOptions(format: format, reason: "an erofs level needs lz4hc-compressed erofs")
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
