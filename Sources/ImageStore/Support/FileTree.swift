import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Removing whole trees, and making directories only this user can enter.
///
/// Removal descends by file descriptor (`openat`, `unlinkat`), never by path, so the kernel is
/// only ever handed one name: a tree whose entries are 4,000 bytes deep, beyond `PATH_MAX`
/// from the root, goes as easily as a flat one (`FileManager.removeItem` fails there with
/// ENAMETOOLONG). Symlinks are removed, never followed, and a mount point inside the tree stops
/// the removal with an error instead of emptying the mounted filesystem. Only the directory being emptied is
/// open, so the depth costs no file descriptors; the way back up is `..`, checked against the
/// device and inode seen on the way down.
public enum FileTree {
    /// Removes `path` (a file or a directory with everything below it). Blocking.
    ///
    /// - Returns: `false` when nothing was there.
    /// - Throws: ``FileSystemError/io(path:operation:errno:)`` naming the entry that could not be
    ///   removed; ``FileSystemError/unsafeDirectory(path:reason:)`` when a directory was moved
    ///   while it was being emptied.
    @discardableResult
    public static func remove(_ path: String) throws(FileSystemError) -> Bool {
        let url = URL(fileURLWithPath: path)
        let parentPath = url.deletingLastPathComponent().path
        let name = Array(url.lastPathComponent.utf8CString)
        let parent = open(parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else {
            if errno == ENOENT { return false }
            throw .io(path: parentPath, operation: "open", errno: errno)
        }
        defer { close(parent) }
        var info = stat()
        guard fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return false }
            throw .io(path: path, operation: "stat", errno: errno)
        }
        if info.st_mode & S_IFMT != S_IFDIR {
            guard unlinkat(parent, name, 0) == 0 || errno == ENOENT else {
                throw .io(path: path, operation: "unlink", errno: errno)
            }
            return true
        }
        if let mount = mountPoint(below: path) {
            throw .unsafeDirectory(path: mount, reason: "is a mount point inside the tree; unmount it first")
        }
        try removeDirectory(name, in: parent, path: path)
        return true
    }

    /// A mount point strictly below `path` (`/proc/self/mountinfo`, field 5), or `nil`. A bind
    /// mount of the same filesystem has the same device number, so only the table tells.
    static func mountPoint(below path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        let root = String(cString: resolved)
        free(resolved)
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { continue }
            let mount = unescapeMountField(fields[4])
            if mount.hasPrefix(root == "/" ? "/" : root + "/"), mount != root { return mount }
        }
        return nil
    }

    /// Undoes mountinfo's octal escapes (`\040` for a space).
    private static func unescapeMountField(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        var input = Array(field.utf8)[...]
        while let byte = input.first {
            if byte == UInt8(ascii: "\\"), input.count >= 4,
                let value = UInt8(String(decoding: input.dropFirst().prefix(3), as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                input = input.dropFirst(4)
            } else {
                bytes.append(byte)
                input = input.dropFirst()
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One directory on the way down: its name in its parent, identity, subdirectories left.
    private struct Frame {
        var name: [CChar]
        var device: UInt64
        var inode: UInt64
        var subdirectories: [[CChar]] = []
    }

    private static func removeDirectory(_ name: [CChar], in parent: Int32, path: String) throws(FileSystemError) {
        var current = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard current >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        defer { if current >= 0 { close(current) } }
        var stack = [try frame(named: name, descriptor: current, path: path)]
        try empty(current, into: &stack[stack.count - 1], path: path)
        while let last = stack.last {
            if let next = stack[stack.count - 1].subdirectories.popLast() {
                let child = openat(current, next, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else {
                    let code = errno
                    if code == ENOENT { continue }
                    // Replaced by a non-directory since it was listed: remove that instead.
                    if code == ENOTDIR || code == ELOOP, unlinkat(current, next, 0) == 0 { continue }
                    throw .io(path: display(stack, next, path), operation: "open", errno: code)
                }
                close(current)
                current = child
                let entered = try frame(named: next, descriptor: current, path: display(stack, nil, path))
                // Another filesystem mounted inside the tree is not ours to empty.
                guard entered.device == last.device else {
                    throw .unsafeDirectory(
                        path: display(stack, next, path), reason: "is a mount point inside the tree; unmount it first")
                }
                stack.append(entered)
                try empty(current, into: &stack[stack.count - 1], path: display(stack, nil, path))
                continue
            }
            stack.removeLast()
            guard let above = stack.last else {
                close(current)
                current = -1
                guard unlinkat(parent, last.name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
                    throw .io(path: path, operation: "rmdir", errno: errno)
                }
                return
            }
            let up = openat(current, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard up >= 0 else { throw .io(path: display(stack, last.name, path), operation: "open ..", errno: errno) }
            close(current)
            current = up
            var info = stat()
            guard fstat(current, &info) == 0, UInt64(info.st_dev) == above.device, UInt64(info.st_ino) == above.inode
            else {
                throw .unsafeDirectory(path: display(stack, nil, path), reason: "was moved while it was being removed")
            }
            guard unlinkat(current, last.name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
                throw .io(path: display(stack, last.name, path), operation: "rmdir", errno: errno)
            }
        }
    }

    private static func frame(named name: [CChar], descriptor: Int32, path: String) throws(FileSystemError) -> Frame {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .io(path: path, operation: "stat", errno: errno) }
        return Frame(name: name, device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Unlinks every non-directory of the open directory and lists its subdirectories.
    private static func empty(_ descriptor: Int32, into frame: inout Frame, path: String) throws(FileSystemError) {
        let listing = dup(descriptor)
        guard listing >= 0, let stream = fdopendir(listing) else {
            let code = errno
            if listing >= 0 { close(listing) }
            throw .io(path: path, operation: "opendir", errno: code)
        }
        defer { closedir(stream) }
        while true {
            errno = 0
            guard let record = readdir(stream) else {
                if errno != 0 { throw .io(path: path, operation: "readdir", errno: errno) }
                return
            }
            var name = withUnsafeBytes(of: &record.pointee.d_name) { raw in
                raw.prefix { $0 != 0 }.map { CChar(bitPattern: $0) }
            }
            if name == [46] || name == [46, 46] { continue }
            name.append(0)
            var isDirectory = Int32(record.pointee.d_type) == Int32(DT_DIR)
            if Int32(record.pointee.d_type) == Int32(DT_UNKNOWN) {
                var info = stat()
                guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                    if errno == ENOENT { continue }
                    throw .io(path: path, operation: "stat", errno: errno)
                }
                isDirectory = info.st_mode & S_IFMT == S_IFDIR
            }
            if isDirectory {
                frame.subdirectories.append(name)
            } else if unlinkat(descriptor, name, 0) != 0 && errno != ENOENT {
                throw .io(path: path + "/" + String(decoding: name.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self),
                    operation: "unlink", errno: errno)
            }
        }
    }

    /// A readable path for errors: the root, then the names on the stack (abridged when long).
    private static func display(_ stack: [Frame], _ leaf: [CChar]?, _ root: String) -> String {
        let names = stack.dropFirst().map(\.name) + (leaf.map { [$0] } ?? [])
        let text = names.map { String(decoding: $0.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            .joined(separator: "/")
        let path = text.isEmpty ? root : root + "/" + text
        return path.count > 300 ? String(path.prefix(140)) + "…" + String(path.suffix(140)) : path
    }
}
