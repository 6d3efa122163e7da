/// Writes an ext4 filesystem image from a ``FilesystemModel``, without mkfs and without a host tree.
///
/// File data streams through ``sink`` straight to its final blocks; ``finish(model:)`` then
/// numbers the inodes, plans the metadata after the data (``EXT4Layout``) and writes directory
/// blocks, extent trees, xattr and symlink blocks, inode tables, bitmaps, group descriptors
/// and the superblock with its `sparse_super` copies.
///
/// ```
/// block 0         [1 KiB zero][superblock][… descriptor table in block 1 … reserve to 64]
/// blocks 65…      file data as it streamed (released contents punched, their blocks reused)
/// after the data  bitmaps, inode tables, directories, symlinks, xattr and extent tree blocks
/// group 1, 3, 5, 7, 9, 25, 27, …: [superblock copy][descriptor table copy][reserve] at their start
/// ```
///
/// Features: filetype, extents, flex_bg, sparse_super, ext_attr, large_file, huge_file,
/// dir_nlink, extra_isize; 4 KiB blocks, 256-byte inodes, no journal, no checksums, linear
/// directories (no dir_index). The output depends only on the model, the stored bytes and
/// ``EXT4WriterOptions`` (fixed times, given UUID and hash seed).
public final class EXT4Writer: DiskImageWriter {
    public let path: String
    public let options: EXT4WriterOptions
    private let file: EXT4BlockFile
    private let dataSink: EXT4DataSink

    public var sink: any FileDataSink { dataSink }

    /// Creates the image file at `path` (which must not exist).
    ///
    /// - Parameter veritySalt: when the disk is to get a dm-verity tree, its salt: the blocks
    ///   are then hashed as they are written (``verityLevelZero()``).
    /// - Throws: ``DiskError/invalidOptions(format:reason:)`` for a UUID or hash seed that is
    ///   not 16 bytes or a volume name over 16; ``DiskError/io(path:operation:errno:)``.
    public convenience init(path: String, options: EXT4WriterOptions) throws(DiskError) {
        try self.init(path: path, options: options, veritySalt: nil)
    }

    init(path: String, options: EXT4WriterOptions, veritySalt: [UInt8]?) throws(DiskError) {
        guard options.uuid.count == 16, options.hashSeed.count == 16 else {
            throw .invalidOptions(format: .ext4, reason: "uuid and hash seed must be 16 bytes each")
        }
        guard options.volumeName.count <= 16 else {
            throw .invalidOptions(format: .ext4, reason: "volume name is longer than 16 bytes")
        }
        self.path = path
        self.options = options
        file = try EXT4BlockFile(creating: path, veritySalt: veritySalt)
        dataSink = EXT4DataSink(file: file)
    }

    /// Writes everything but the file data, then sizes the file.
    ///
    /// - Throws: ``DiskError/lostAndFoundNotDirectory(kind:)``, ``DiskError/nameTooLongForExt4(path:)``,
    ///   ``DiskError/tooManyLinksForExt4(path:links:)``, ``DiskError/invalidSymlinkForExt4(path:length:)``,
    ///   ``DiskError/xattrsTooLargeForExt4(path:bytes:)``, ``DiskError/xattrUnsupportedForExt4(path:name:reason:)``,
    ///   ``DiskError/imageTooLargeForExt4``, ``DiskError/io(path:operation:errno:)``.
    public func finish(model: FilesystemModel) throws {
        try EXT4Assembler(model: model, sink: dataSink, file: file, options: options).write()
    }
}

extension EXT4Writer: VerityLevelZeroSource {
    func verityLevelZero() throws(DiskError) -> SpoolFile? { try file.verityLevelZero() }
}
