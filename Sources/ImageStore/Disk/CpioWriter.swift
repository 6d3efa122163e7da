import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a tree as a cpio "newc" archive (the format the Linux kernel unpacks as initramfs).
///
/// Each entry is a 110-byte ASCII header (`070701` and 13 eight-digit hex fields: ino, mode,
/// uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check),
/// the NUL-terminated name padded to 4 bytes, then the data padded to 4 bytes; the archive ends
/// with an entry named `TRAILER!!!`.
///
/// - Order: `.` first, then depth-first with each directory's entries in bytewise name order,
///   so parents precede children and two archives of equal trees are byte-identical.
/// - Names are relative (`bin/sh`), never absolute.
/// - Numbers are the tree's own, not the host's: inode numbers count up from 1 in archive
///   order, nlink is 2 + subdirectories for a directory and the number of names in the tree
///   for a file, devmajor/devminor are 0.
/// - Hard links share ino and nlink. The data goes on the first name and the later names
///   declare size 0: the kernel (init/initramfs.c, `maybe_link`) links each later name to the
///   first one and opens it without `O_TRUNC`, so the content stays; GNU cpio and libarchive
///   also link later size-0 names to the earlier file.
/// - Symbolic links carry their target as data; device nodes carry `rdev`; FIFOs and sockets
///   carry nothing. newc has no place for extended attributes: they are not archived.
/// - A file over 4 GiB − 1 cannot be described and is refused.
struct CpioWriter {
    /// The tree to archive.
    let walker: TreeWalker

    /// Writes the archive to a new file at `path`. Blocking.
    ///
    /// - Throws: ``DiskError``, `CancellationError`.
    func write(to path: String, isCancelled: () -> Bool) throws {
        var entries: [TreeEntry] = []
        var names: [[UInt64]: UInt32] = [:]
        var subdirectories: [[UInt8]: UInt32] = [:]
        try walker.walk(isCancelled: isCancelled) { entry in
            entries.append(entry)
            if entry.kind == .directory {
                if !entry.path.isEmpty { subdirectories[CpioWriter.parent(of: entry.path), default: 0] += 1 }
            } else if entry.linkCount > 1 {
                names[[entry.device, entry.inode], default: 0] += 1
            }
        }
        let output = try BufferedFileWriter(creating: path)
        var inodeNumbers: [[UInt64]: UInt32] = [:]
        var nextInode: UInt32 = 1
        for entry in entries {
            if isCancelled() { throw CancellationError() }
            let key = [entry.device, entry.inode]
            let linked = entry.kind != .directory && entry.linkCount > 1
            var isLaterLink = false
            let inode: UInt32
            if linked, let first = inodeNumbers[key] {
                inode = first
                isLaterLink = true
            } else {
                inode = nextInode
                nextInode += 1
                if linked { inodeNumbers[key] = inode }
            }
            let nlink = entry.kind == .directory ? 2 + (subdirectories[entry.path] ?? 0) : (linked ? names[key] ?? 1 : 1)
            try writeEntry(entry, inode: inode, nlink: nlink, withData: !isLaterLink, to: output)
        }
        try CpioWriter.writeHeader(
            name: Array("TRAILER!!!".utf8), fields: CpioWriter.Fields(inode: 0, mode: 0, nlink: 1), to: output)
        try output.flush()
    }

    // MARK: - Entries

    /// The numeric header fields of one entry.
    struct Fields {
        var inode: UInt32
        var mode: UInt32
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        var nlink: UInt32
        var mtime: UInt32 = 0
        var fileSize: UInt32 = 0
        var rdevMajor: UInt32 = 0
        var rdevMinor: UInt32 = 0
    }

    private func writeEntry(
        _ entry: TreeEntry, inode: UInt32, nlink: UInt32, withData: Bool, to output: BufferedFileWriter
    ) throws {
        let name = entry.path.isEmpty ? Array(".".utf8) : entry.path
        var fields = Fields(
            inode: inode, mode: entry.mode, uid: entry.uid, gid: entry.gid, nlink: nlink,
            mtime: UInt32(clamping: max(0, entry.mtime)))
        switch entry.kind {
        case .regular:
            guard entry.size <= UInt64(UInt32.max) else {
                throw DiskError.fileTooLargeForCpio(path: entry.displayPath, size: entry.size)
            }
            fields.fileSize = withData ? UInt32(entry.size) : 0
            try CpioWriter.writeHeader(name: name, fields: fields, to: output)
            if withData { try copyData(of: entry, to: output) }
        case .symlink:
            let target = try walker.linkTarget(of: entry)
            fields.fileSize = UInt32(target.count)
            try CpioWriter.writeHeader(name: name, fields: fields, to: output)
            try output.write(target)
            try output.padToFour()
        case .characterDevice, .blockDevice:
            // glibc's major()/minor() encoding of dev_t.
            fields.rdevMajor = UInt32(truncatingIfNeeded: ((entry.rdev >> 8) & 0xfff) | ((entry.rdev >> 32) & ~0xfff))
            fields.rdevMinor = UInt32(truncatingIfNeeded: (entry.rdev & 0xff) | ((entry.rdev >> 12) & ~0xff))
            try CpioWriter.writeHeader(name: name, fields: fields, to: output)
        case .directory, .fifo, .socket:
            try CpioWriter.writeHeader(name: name, fields: fields, to: output)
        }
    }

    /// Copies a regular file's bytes and pads them; the file must still have its walked size.
    private func copyData(of entry: TreeEntry, to output: BufferedFileWriter) throws {
        let path = walker.absolute(entry.path)
        let descriptor = TreeWalker.withCString(path) { open($0, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) }
        guard descriptor >= 0 else { throw DiskError.io(path: entry.displayPath, operation: "open", errno: errno) }
        defer { close(descriptor) }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var remaining = entry.size
        while remaining > 0 {
            let wanted = Int(min(remaining, UInt64(chunk.count)))
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, wanted) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                // Shorter than lstat said: the tree changed under us.
                throw DiskError.io(path: entry.displayPath, operation: "read", errno: count < 0 ? errno : EIO)
            }
            try output.write(chunk[0..<count])
            remaining -= UInt64(count)
        }
        try output.padToFour()
    }

    // MARK: - Header

    private static func writeHeader(name: [UInt8], fields: Fields, to output: BufferedFileWriter) throws(DiskError) {
        let nameSize = UInt32(name.count + 1)
        guard name.count < 4096 else { throw .nameTooLongForCpio(path: String(decoding: name, as: UTF8.self)) }
        var header = Array("070701".utf8)
        header.reserveCapacity(110 + name.count + 4)
        for value in [
            fields.inode, fields.mode, fields.uid, fields.gid, fields.nlink, fields.mtime, fields.fileSize,
            0, 0, fields.rdevMajor, fields.rdevMinor, nameSize, 0,
        ] {
            header += hex8(value)
        }
        header += name
        header.append(0)
        try output.write(header)
        try output.padToFour()
    }

    /// Eight uppercase hex digits, zero-padded.
    private static func hex8(_ value: UInt32) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        return (0..<8).map { digits[Int((value >> (28 - 4 * UInt32($0))) & 0xf)] }
    }

    private static func parent(of path: [UInt8]) -> [UInt8] {
        Array(path[..<(path.lastIndex(of: UInt8(ascii: "/")) ?? 0)])
    }
}
