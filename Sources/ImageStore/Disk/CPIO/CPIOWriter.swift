#if canImport(Glibc)
    import Glibc
#endif

/// Writes a cpio "newc" archive (the format the Linux kernel unpacks as an initramfs) from a
/// ``FilesystemModel``, without a host tree.
///
/// File data streams through ``sink`` into an unlinked spool file beside the output, in tar
/// order; ``finish(model:)`` then writes the entries in name order, copying each file's bytes
/// from the spool, and the `TRAILER!!!` entry; with compression the bare archive goes to the
/// spool too and `gzip -n` or `zstd -T0` writes the output from it (``CPIOCompressor``).
///
/// ```
/// spool (unlinked):  [file data, tar order, holes kept][bare archive, when compressed]
/// output:            [. ][bin ][bin/sh ][etc ]…[TRAILER!!!]     (or its gzip / zstd stream)
///                     each entry: 110-byte header, name + NUL, pad to 4, data, pad to 4
/// ```
///
/// - Order: `.` first, then depth-first (a directory, then its subtree) with each directory's
///   entries in bytewise name order (``FilesystemModel/children(of:)``): parents precede
///   children, and the output depends only on the model, the stored bytes and the options
///   (no clock, no host numbers), so the same image gives a byte-identical archive.
/// - Names are relative (`bin/sh`), never absolute; at most 4,095 bytes.
/// - Inode numbers count up from 1 in archive order; devmajor/devminor are 0; mtime is the
///   model's seconds, clamped to `0...2^32-1` (newc has no nanoseconds and no negative times).
/// - Directories have nlink 2 + subdirectories. Hardlinked regular files, devices, FIFOs and
///   sockets share ino and nlink; a file's data goes with its last name, earlier names declare
///   size 0. That is what GNU cpio writes (it defers size-0 links until the data arrives), the
///   kernel (init/initramfs.c, `maybe_link`) links later names to the first and opens them
///   without `O_TRUNC`, and libarchive links them and writes the data through the link.
///   Hardlinked symlinks become separate symlinks (the kernel never links them).
/// - Symlinks carry their target as data; devices carry rdevmajor/rdevminor.
/// - Extended attributes are dropped: newc has no place for them (`security.capability` too).
/// - Holes are written as zeros (newc has no holes), at most
///   ``CPIOWriterOptions/maxMaterializedZeroBytes`` for the whole archive.
/// - Refused with a ``DiskError``: a root entry named `TRAILER!!!` (it would end the archive
///   early for the kernel, GNU cpio and bsdtar), a file of 4 GiB or more, a longer name.
public final class CPIOWriter: DiskImageWriter {
    public let path: String
    public let options: CPIOWriterOptions
    private let output: Int32
    private let dataSink: CPIODataSink

    public var sink: any FileDataSink { dataSink }

    /// Creates the archive file at `path` (which must not exist) and its spool beside it.
    ///
    /// - Throws: ``DiskError/invalidOptions(format:reason:)`` for a negative zero-byte limit,
    ///   ``DiskError/io(path:operation:errno:)``.
    public init(path: String, options: CPIOWriterOptions) throws {
        guard options.maxMaterializedZeroBytes >= 0 else {
            throw DiskError.invalidOptions(format: .cpio, reason: "maxMaterializedZeroBytes is negative")
        }
        self.path = path
        self.options = options
        let spool = try SpoolFile(beside: path)
        output = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw DiskError.io(path: path, operation: "create", errno: errno) }
        dataSink = CPIODataSink(spool: spool)
    }

    deinit { close(output) }

    /// Writes every entry and the trailer, compressing if asked. Nothing is written before the
    /// model has passed every check.
    ///
    /// - Throws: ``DiskError/reservedNameForCpio(path:)``, ``DiskError/fileTooLargeForCpio(path:size:)``,
    ///   ``DiskError/nameTooLongForCpio(path:)``, ``DiskError/sparseZerosOverLimitForCpio(path:zeroBytes:limit:)``,
    ///   ``DiskError/inconsistentModel(reason:)``, ``DiskError/toolFailed(tool:command:status:stderrTail:)``,
    ///   ``DiskError/toolUnavailable(tool:message:)``, ``DiskError/io(path:operation:errno:)``.
    public func finish(model: FilesystemModel) throws {
        try check(model)
        let arguments = CPIOCompressor.arguments(for: options.compression)
        let archiveStart = arguments == nil ? 0 : dataSink.end
        let stream =
            arguments == nil
            ? CPIOOutput(descriptor: output, path: path)
            : CPIOOutput(descriptor: dataSink.spool.descriptor, path: dataSink.spool.path, start: archiveStart)
        var archive = CPIOArchiveWriter(model: model, sink: dataSink, output: stream)
        try archive.writeAll()
        try stream.flush()
        if let arguments {
            try CPIOCompressor.run(arguments, input: dataSink.spool, offset: archiveStart, output: output, outputPath: path)
        }
    }

    /// Refuses what newc cannot hold, before any byte is written.
    private func check(_ model: FilesystemModel) throws(DiskError) {
        if model.lookup(CPIOHeader.trailerName, in: .root) != nil {
            throw .reservedNameForCpio(path: "/TRAILER!!!")
        }
        var zeroBytes: Int64 = 0
        var oversized: InodeID?
        var largestHoles: (id: InodeID, bytes: Int64)?
        for id in model.inodeIDs {
            let inode = model[id]
            guard inode.kind == .regular else { continue }
            guard let content = inode.content, let stored = dataSink.stored(content) else {
                if inode.size == 0 { continue }
                throw .inconsistentModel(reason: "a regular file of \(inode.size) bytes has no stored content")
            }
            if stored.size > Int64(UInt32.max) { oversized = oversized ?? id }
            zeroBytes += stored.holeBytes
            if stored.holeBytes > (largestHoles?.bytes ?? 0) { largestHoles = (id, stored.holeBytes) }
        }
        if let oversized {
            throw .fileTooLargeForCpio(path: CPIOWriter.path(of: oversized, in: model), size: UInt64(model[oversized].size))
        }
        if zeroBytes > options.maxMaterializedZeroBytes, let largestHoles {
            throw .sparseZerosOverLimitForCpio(
                path: CPIOWriter.path(of: largestHoles.id, in: model), zeroBytes: zeroBytes, limit: options.maxMaterializedZeroBytes)
        }
    }

    /// The first path of `target` in walk order, for error messages.
    static func path(of target: InodeID, in model: FilesystemModel) -> String {
        var found: [UInt8]?
        var pending: [(InodeID, [UInt8])] = [(.root, [])]
        while found == nil, let (directory, prefix) = pending.popLast() {
            for child in model.children(of: directory) {
                let path = prefix + [UInt8(ascii: "/")] + child.name
                if child.inode == target {
                    found = path
                    break
                }
                if model[child.inode].kind == .directory { pending.append((child.inode, path)) }
            }
        }
        return String(decoding: found ?? [], as: UTF8.self)
    }
}
