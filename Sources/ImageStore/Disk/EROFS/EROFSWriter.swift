/// Writes an erofs filesystem image from a ``FilesystemModel``, without mkfs.erofs and without
/// a host tree; Linux 6.1 mounts it and `fsck.erofs` (erofs-utils 1.5) checks and extracts it.
///
/// File data streams through ``sink`` straight to its final blocks (a file's last partial
/// block waits in an unlinked spool file); ``finish(model:)`` then numbers the inodes, lays
/// out the metadata after the data (``EROFSAssembler``) and writes directories, inodes with
/// their inline xattrs, tails and chunk tables, and the superblock.
///
/// 4 KiB blocks; compact 32-byte inodes, extended 64-byte ones where a file needs them (an
/// mtime other than the build time, owners or links over 65,535, 4 GiB or more); `FLAT_PLAIN`
/// and `FLAT_INLINE` data, `CHUNK_BASED` for sparse files (holes are null chunks; feature
/// `CHUNKED_FILE` only then); inline xattrs, no shared xattrs, no checksum. The output depends
/// only on the model, the stored bytes and ``EROFSWriterOptions``.
public final class EROFSWriter: DiskImageWriter {
    public let path: String
    public let options: EROFSWriterOptions
    private let file: EXT4BlockFile
    private let dataSink: EROFSDataSink

    public var sink: any FileDataSink { dataSink }

    /// Creates the image file at `path` (which must not exist) and its spool `path.spool`.
    ///
    /// - Throws: ``DiskError/invalidOptions(format:reason:)`` for a UUID that is not 16 bytes,
    ///   a volume name over 16 or an LZ4HC level outside 1…12; ``DiskError/io(path:operation:errno:)``.
    public convenience init(path: String, options: EROFSWriterOptions) throws {
        try self.init(path: path, options: options, veritySalt: nil)
    }

    /// As ``init(path:options:)``; `veritySalt` (the salt of the disk's dm-verity tree) has the
    /// blocks hashed as they are written (``verityLevelZero()``).
    init(path: String, options: EROFSWriterOptions, veritySalt: [UInt8]?) throws {
        guard options.uuid.count == 16 else { throw DiskError.invalidOptions(format: .erofs, reason: "uuid must be 16 bytes") }
        guard options.volumeName.count <= 16 else {
            throw DiskError.invalidOptions(format: .erofs, reason: "volume name is longer than 16 bytes")
        }
        if case .lz4hc(let level) = options.compression, !(1...12).contains(level) {
            throw DiskError.invalidOptions(format: .erofs, reason: "lz4hc level \(level) is outside 1...12")
        }
        self.path = path
        self.options = options
        file = try EXT4BlockFile(creating: path, veritySalt: veritySalt)
        dataSink = EROFSDataSink(file: file, spool: try EROFSSpool(path: path + ".spool"), compression: options.compression)
    }

    /// Writes everything but the file data, then sizes the file.
    ///
    /// - Throws: ``DiskError/nameTooLongForErofs(path:)``, ``DiskError/invalidSymlinkForErofs(path:length:)``,
    ///   ``DiskError/deviceNumberTooLargeForErofs(path:major:minor:)``, ``DiskError/xattrsTooLargeForErofs(path:bytes:)``,
    ///   ``DiskError/xattrUnsupportedForErofs(path:name:reason:)``, ``DiskError/imageTooLargeForErofs``,
    ///   ``DiskError/io(path:operation:errno:)``.
    public func finish(model: FilesystemModel) throws {
        try EROFSAssembler(model: model, sink: dataSink, file: file, options: options).write()
    }
}

extension EROFSWriter: VerityLevelZeroSource {
    func verityLevelZero() throws(DiskError) -> SpoolFile? { try file.verityLevelZero() }
}
