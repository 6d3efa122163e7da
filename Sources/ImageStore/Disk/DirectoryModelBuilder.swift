import CXattr
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Builds a ``FilesystemModel`` from a directory tree on the host (`export-tree DIR`), storing
/// regular-file bytes through a writer's ``FileDataSink``.
///
/// Every step is relative to an open directory descriptor (`openat`, `fstatat`, `readlinkat`
/// with `AT_SYMLINK_NOFOLLOW`/`O_NOFOLLOW`), so no path is ever longer than one name and the
/// tree may be of any depth; symlinks are never followed. Names are bytes, kept as they are.
/// Kept per entry: type, permission bits, owner, mtime with nanoseconds, xattrs, device
/// numbers, symlink target, hardlinks (by device and inode number), and for regular files
/// the data segments that `SEEK_DATA`/`SEEK_HOLE` report, so holes stay holes. Blocking.
struct DirectoryModelBuilder {
    /// The directory whose content becomes the model's root.
    let root: String

    /// `SEEK_DATA` and `SEEK_HOLE` of linux/fs.h: Glibc's module leaves them out (they need
    /// `_GNU_SOURCE`).
    private static let seekData: Int32 = 3
    private static let seekHole: Int32 = 4

    /// Read size for file data.
    private static let chunkSize = 1 << 20

    /// Walks the tree into a new model.
    ///
    /// - Parameters:
    ///   - sink: receives every regular file's data.
    ///   - isCancelled: polled between entries.
    /// - Throws: ``DiskError/notADirectory(path:)`` when `root` is not a directory,
    ///   ``DiskError/io(path:operation:errno:)`` naming the entry, what the sink throws,
    ///   `CancellationError`.
    func build(into sink: any FileDataSink, isCancelled: () -> Bool = { false }) throws -> FilesystemModel {
        var info = stat()
        guard lstat(root, &info) == 0 else { throw DiskError.io(path: root, operation: "lstat", errno: errno) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw DiskError.notADirectory(path: root) }
        let top = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard top >= 0 else { throw DiskError.io(path: root, operation: "open", errno: errno) }
        let rootDescriptor = Descriptor(top)
        let model = FilesystemModel()
        var rootInode = DirectoryModelBuilder.inode(.directory, info)
        rootInode.xattrs = try xattrs(in: rootDescriptor, [0x2E], path: [])
        model[.root] = rootInode
        var links: [Hardlink: InodeID] = [:]
        // Directories are opened when their turn comes, so only the ancestors of pending
        // directories hold a descriptor (about one per level), however wide the tree.
        var pending: [(parent: Descriptor, name: [UInt8], id: InodeID, path: [UInt8])] = []
        var current: (descriptor: Descriptor, id: InodeID, path: [UInt8])? = (rootDescriptor, .root, [])
        while true {
            let directory: (descriptor: Descriptor, id: InodeID, path: [UInt8])
            if let first = current {
                directory = first
                current = nil
            } else if let next = pending.popLast() {
                directory = try openDirectory(next.name, in: next.parent, path: next.path, id: next.id)
            } else {
                break
            }
            var subdirectories: [(parent: Descriptor, name: [UInt8], id: InodeID, path: [UInt8])] = []
            for name in try names(in: directory.descriptor, path: directory.path) {
                if isCancelled() { throw CancellationError() }
                let path = directory.path.isEmpty ? name : directory.path + [0x2F] + name
                var entry = stat()
                guard fstatat(directory.descriptor.fd, cString(name), &entry, AT_SYMLINK_NOFOLLOW) == 0 else {
                    throw io(path, "lstat")
                }
                let kind = DirectoryModelBuilder.kind(entry.st_mode)
                let key = Hardlink(device: UInt64(entry.st_dev), inode: UInt64(entry.st_ino))
                if kind != .directory, entry.st_nlink > 1, let known = links[key] {
                    model.link(known, in: directory.id, named: name)
                    continue
                }
                var inode = DirectoryModelBuilder.inode(kind, entry)
                inode.xattrs = try xattrs(in: directory.descriptor, name, path: path)
                switch kind {
                case .regular:
                    inode.size = Int64(entry.st_size)
                    inode.content = try store(name, in: directory.descriptor, size: inode.size, path: path, sink: sink)
                case .symlink:
                    inode.symlinkTarget = try linkTarget(name, in: directory.descriptor, path: path)
                    inode.size = Int64(inode.symlinkTarget.count)
                case .characterDevice, .blockDevice:
                    inode.deviceMajor = UInt32(truncatingIfNeeded: DirectoryModelBuilder.major(UInt64(entry.st_rdev)))
                    inode.deviceMinor = UInt32(truncatingIfNeeded: DirectoryModelBuilder.minor(UInt64(entry.st_rdev)))
                case .directory, .fifo, .socket:
                    break
                }
                let id = model.insert(inode, named: name, in: directory.id)
                if kind == .directory {
                    subdirectories.append((directory.descriptor, name, id, path))
                } else if entry.st_nlink > 1 {
                    links[key] = id
                }
            }
            pending.append(contentsOf: subdirectories.reversed())
        }
        return model
    }

    private func openDirectory(_ name: [UInt8], in parent: Descriptor, path: [UInt8], id: InodeID) throws(DiskError)
        -> (descriptor: Descriptor, id: InodeID, path: [UInt8])
    {
        let fd = openat(parent.fd, cString(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw io(path, "open") }
        return (Descriptor(fd), id, path)
    }

    // MARK: - Reading one entry

    private func names(in directory: Descriptor, path: [UInt8]) throws(DiskError) -> [[UInt8]] {
        let copy = dup(directory.fd)
        guard copy >= 0 else { throw io(path, "dup") }
        guard let stream = fdopendir(copy) else {
            let code = errno
            close(copy)
            throw .io(path: display(path), operation: "opendir", errno: code)
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let record = readdir(stream) else {
                if errno != 0 { throw io(path, "readdir") }
                break
            }
            let name = withUnsafeBytes(of: &record.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(name)
        }
        // Sorted, so the same tree gives the same data order (and disk) wherever it lies.
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Streams the data segments of a regular file to the sink.
    private func store(
        _ name: [UInt8], in directory: Descriptor, size: Int64, path: [UInt8], sink: any FileDataSink
    ) throws -> ContentID {
        let fd = openat(directory.fd, cString(name), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw io(path, "open") }
        let file = Descriptor(fd)
        var buffer = [UInt8](repeating: 0, count: DirectoryModelBuilder.chunkSize)
        return try sink.store(size: size) { body in
            var position: Int64 = 0
            while position < size {
                var start = Int64(lseek(file.fd, off_t(position), DirectoryModelBuilder.seekData))
                if start < 0 {
                    if errno == ENXIO { return }
                    // No hole support: everything is data.
                    start = position
                }
                var end = Int64(lseek(file.fd, off_t(start), DirectoryModelBuilder.seekHole))
                if end < 0 { end = size }
                end = min(end, size)
                var offset = start
                while offset < end {
                    let want = Int(min(Int64(buffer.count), end - offset))
                    let count = buffer.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress, want, off_t(offset)) }
                    if count < 0 {
                        if errno == EINTR { continue }
                        throw io(path, "read")
                    }
                    // The file shrank while read: what is left is a hole.
                    if count == 0 { return }
                    try buffer.withUnsafeBytes { try body(offset, UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                    offset += Int64(count)
                }
                position = max(end, start + 1)
            }
        }
    }

    private func linkTarget(_ name: [UInt8], in directory: Descriptor, path: [UInt8]) throws(DiskError) -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(directory.fd, cString(name), &buffer, buffer.count)
        guard count >= 0 else { throw io(path, "readlink") }
        return buffer.prefix(count).map { UInt8(bitPattern: $0) }
    }

    /// The entry's xattrs, read through `/proc/self/fd/<dir>/<name>` so no path is long and a
    /// symlink is not followed.
    private func xattrs(in directory: Descriptor, _ name: [UInt8], path: [UInt8]) throws(DiskError) -> [Xattr] {
        let file = cString(Array("/proc/self/fd/\(directory.fd)/".utf8) + name)
        let listSize = llistxattr(file, nil, 0)
        if listSize < 0 && (errno == ENOTSUP || errno == ENODATA) { return [] }
        guard listSize >= 0 else { throw io(path, "llistxattr") }
        guard listSize > 0 else { return [] }
        var list = [CChar](repeating: 0, count: listSize)
        let listed = llistxattr(file, &list, list.count)
        guard listed >= 0 else { throw io(path, "llistxattr") }
        var result: [Xattr] = []
        for raw in list.prefix(listed).split(separator: 0) {
            let attribute = Array(raw) + [0]
            let valueSize = lgetxattr(file, attribute, nil, 0)
            guard valueSize >= 0 else { throw io(path, "lgetxattr") }
            var value = [UInt8](repeating: 0, count: valueSize)
            let read = value.withUnsafeMutableBytes { lgetxattr(file, attribute, $0.baseAddress, $0.count) }
            guard read >= 0 else { throw io(path, "lgetxattr") }
            let text = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            result.append(Xattr(name: text, value: Array(value.prefix(read))))
        }
        return result
    }

    // MARK: - Helpers

    private static func inode(_ kind: InodeKind, _ info: stat) -> Inode {
        Inode(
            kind: kind, permissions: UInt16(info.st_mode & 0o7777), uid: info.st_uid, gid: info.st_gid,
            modificationTime: Timestamp(seconds: Int64(info.st_mtim.tv_sec), nanoseconds: Int64(info.st_mtim.tv_nsec)))
    }

    private static func kind(_ mode: mode_t) -> InodeKind {
        switch mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        case S_IFCHR: return .characterDevice
        case S_IFBLK: return .blockDevice
        case S_IFIFO: return .fifo
        case S_IFSOCK: return .socket
        default: return .regular
        }
    }

    /// glibc's `gnu_dev_major`/`gnu_dev_minor`, which are macros Swift does not import.
    static func major(_ device: UInt64) -> UInt64 { ((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff) }
    static func minor(_ device: UInt64) -> UInt64 { (device & 0xff) | ((device >> 12) & ~0xff) }

    private func io(_ path: [UInt8], _ operation: String) -> DiskError {
        .io(path: display(path), operation: operation, errno: errno)
    }

    private func display(_ path: [UInt8]) -> String {
        path.isEmpty ? root : root + "/" + String(decoding: path, as: UTF8.self)
    }

    private func cString(_ bytes: [UInt8]) -> [CChar] { bytes.map { CChar(bitPattern: $0) } + [0] }

    /// One host inode, for finding hardlinks.
    private struct Hardlink: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// An open descriptor, closed with its last reference.
    private final class Descriptor {
        let fd: Int32
        init(_ fd: Int32) { self.fd = fd }
        deinit { close(fd) }
    }
}
