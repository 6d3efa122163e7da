import CXattr
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One file of a rootfs tree as `lstat` sees it.
struct TreeEntry: Sendable {
    /// The kinds of file a rootfs holds.
    enum Kind: Sendable {
        case regular, directory, symlink, characterDevice, blockDevice, fifo, socket
    }

    /// Path relative to the root, bytes as on disk, no leading `./`; empty for the root itself.
    let path: [UInt8]
    /// Length in bytes of the last path component (0 for the root).
    let nameLength: Int
    let kind: Kind
    /// `st_mode`: type and permission bits.
    let mode: UInt32
    let uid: UInt32
    let gid: UInt32
    let size: UInt64
    let mtime: Int64
    let device: UInt64
    let inode: UInt64
    /// The device a character or block device node stands for.
    let rdev: UInt64
    /// `st_nlink` on the host; for hard-link detection only, never copied into a disk.
    let linkCount: UInt64

    /// The path for messages: `.` for the root, invalid UTF-8 replaced.
    var displayPath: String { path.isEmpty ? "." : String(decoding: path, as: UTF8.self) }
}

/// Walks a directory tree depth-first, parents before children, each directory's entries in
/// bytewise order of their names, so that two walks of equal trees visit the same sequence.
///
/// Names are handled as bytes: a file name that is not UTF-8 survives unchanged. Symbolic links
/// are never followed. Every call blocks; callers run it on ``BlockingExecutor``.
struct TreeWalker {
    /// The absolute path of the root directory, as bytes.
    let root: [UInt8]

    /// Prepares a walk of `root`.
    init(root: URL) {
        self.root = Array(root.path.utf8)
    }

    /// Visits the root and then every entry below it.
    ///
    /// - Parameters:
    ///   - isCancelled: polled between entries; a `true` answer throws `CancellationError`.
    ///   - visit: called once per entry, parents first.
    /// - Throws: ``DiskError/notADirectory(path:)`` if the root is not a directory,
    ///   ``DiskError/io(path:operation:errno:)``, `CancellationError`, or what `visit` throws.
    func walk(isCancelled: () -> Bool = { false }, _ visit: (TreeEntry) throws -> Void) throws {
        let top = try entry(relative: [], nameLength: 0)
        guard top.kind == .directory else { throw DiskError.notADirectory(path: String(decoding: root, as: UTF8.self)) }
        try visit(top)
        try walkChildren(of: [], isCancelled: isCancelled, visit)
    }

    private func walkChildren(
        of directory: [UInt8], isCancelled: () -> Bool, _ visit: (TreeEntry) throws -> Void
    ) throws {
        for name in try names(in: directory) {
            if isCancelled() { throw CancellationError() }
            let relative = directory.isEmpty ? name : directory + [UInt8(ascii: "/")] + name
            let child = try entry(relative: relative, nameLength: name.count)
            try visit(child)
            if child.kind == .directory {
                try walkChildren(of: relative, isCancelled: isCancelled, visit)
            }
        }
    }

    /// The absolute path of a relative one.
    func absolute(_ relative: [UInt8]) -> [UInt8] {
        relative.isEmpty ? root : root + [UInt8(ascii: "/")] + relative
    }

    /// The entry names of a directory, without `.` and `..`, in bytewise order.
    private func names(in relative: [UInt8]) throws(DiskError) -> [[UInt8]] {
        let path = absolute(relative)
        guard let stream = TreeWalker.withCString(path, { opendir($0) }) else {
            throw .io(path: String(decoding: path, as: UTF8.self), operation: "opendir", errno: errno)
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let record = readdir(stream) else {
                if errno != 0 {
                    throw .io(path: String(decoding: path, as: UTF8.self), operation: "readdir", errno: errno)
                }
                break
            }
            let name = withUnsafeBytes(of: &record.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// `lstat` of one entry.
    private func entry(relative: [UInt8], nameLength: Int) throws(DiskError) -> TreeEntry {
        let path = absolute(relative)
        var info = stat()
        guard TreeWalker.withCString(path, { lstat($0, &info) }) == 0 else {
            throw .io(path: String(decoding: path, as: UTF8.self), operation: "lstat", errno: errno)
        }
        let kind: TreeEntry.Kind
        switch info.st_mode & S_IFMT {
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        case S_IFCHR: kind = .characterDevice
        case S_IFBLK: kind = .blockDevice
        case S_IFIFO: kind = .fifo
        case S_IFSOCK: kind = .socket
        default: kind = .regular
        }
        return TreeEntry(
            path: relative, nameLength: nameLength, kind: kind, mode: info.st_mode, uid: info.st_uid,
            gid: info.st_gid, size: UInt64(max(0, info.st_size)), mtime: Int64(info.st_mtim.tv_sec),
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), rdev: UInt64(info.st_rdev),
            linkCount: UInt64(info.st_nlink))
    }

    /// The target of a symbolic link, as bytes.
    func linkTarget(of entry: TreeEntry) throws(DiskError) -> [UInt8] {
        let path = absolute(entry.path)
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = TreeWalker.withCString(path) { name in
            buffer.withUnsafeMutableBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { characters in
                    guard let base = characters.baseAddress else { return -1 }
                    return readlink(name, base, characters.count)
                }
            }
        }
        guard count >= 0 else {
            throw .io(path: String(decoding: path, as: UTF8.self), operation: "readlink", errno: errno)
        }
        return Array(buffer.prefix(count))
    }

    /// Bytes the extended attributes of an entry take: names, values and per-attribute headers
    /// the way ext4 stores them (16 bytes per entry, name and value rounded to 4).
    func extendedAttributeBytes(of entry: TreeEntry) throws(DiskError) -> Int {
        let path = absolute(entry.path)
        let listSize = TreeWalker.withCString(path) { llistxattr($0, nil, 0) }
        guard listSize > 0 else { return 0 }
        var list = [CChar](repeating: 0, count: listSize)
        let listed = TreeWalker.withCString(path) { name in
            list.withUnsafeMutableBufferPointer { llistxattr(name, $0.baseAddress, $0.count) }
        }
        guard listed >= 0 else {
            throw .io(path: String(decoding: path, as: UTF8.self), operation: "llistxattr", errno: errno)
        }
        var total = 0
        for attribute in list.prefix(listed).split(separator: 0) {
            let nameBytes = Array(attribute) + [0]
            let valueSize = TreeWalker.withCString(path) { file in
                nameBytes.withUnsafeBufferPointer { lgetxattr(file, $0.baseAddress, nil, 0) }
            }
            total += 16 + (attribute.count + 3) / 4 * 4 + (max(0, valueSize) + 3) / 4 * 4
        }
        return total
    }

    /// Calls `body` with a NUL-terminated copy of `bytes`.
    static func withCString<T>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        (bytes + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { characters in
                guard let base = characters.baseAddress else { return "".withCString(body) }
                return body(base)
            }
        }
    }
}
