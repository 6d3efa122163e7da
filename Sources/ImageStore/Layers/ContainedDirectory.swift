import CXattr
import Glibc

/// File system calls confined to one root directory, never following a symlink.
///
/// Every path is resolved from an open descriptor of the root, one component at a time, with
/// `openat(…, O_DIRECTORY | O_NOFOLLOW)`: a component that is a symlink (planted by an earlier
/// entry or layer) or not a directory stops the walk with a ``FileSystemFault``. The final
/// component of an entry is always addressed as `(directory descriptor, name)` and every call
/// on it uses the `*at` form with `AT_SYMLINK_NOFOLLOW` (or creates it with `O_EXCL`), so no
/// write, change or removal can reach outside the root. `openat2(RESOLVE_BENEATH)` would do
/// the walk in one call but needs the variadic `syscall`, which Swift cannot call; the walk
/// costs one `openat` per component.
final class ContainedDirectory {
    /// The root, opened once.
    let root: OpenDescriptor

    /// Opens `path` (the caller's own scratch directory; it may itself be reached through symlinks).
    init(path: String) throws(FileSystemFault) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(operation: "open root", errno: errno) }
        root = OpenDescriptor(fd)
    }

    // MARK: - Resolution

    /// Opens the directory at `components` below the root without following symlinks.
    ///
    /// Missing directories are created with mode 0755 when `create` is set; otherwise a missing
    /// component gives `nil`.
    func directory(_ components: ArraySlice<[UInt8]>, create: Bool) throws(FileSystemFault) -> OpenDescriptor? {
        var current = root
        var walked: [UInt8] = []
        for component in components {
            if !walked.isEmpty { walked.append(0x2F) }
            walked += component
            var fd = openat(current.fd, cString(component), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 && errno == ENOENT {
                guard create else { return nil }
                guard mkdirat(current.fd, cString(component), 0o755) == 0 else {
                    throw .system(operation: "mkdir", errno: errno)
                }
                fd = openat(current.fd, cString(component), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                // 0755 whatever the process umask is.
                if fd >= 0 && fchmod(fd, 0o755) != 0 {
                    close(fd)
                    throw .system(operation: "chmod", errno: errno)
                }
            }
            guard fd >= 0 else {
                let code = errno
                if let kind = try self.kind(in: current, component) {
                    throw kind == .symlink ? .symlinkComponent(walked) : .notDirectory(walked)
                }
                throw .system(operation: "open directory", errno: code)
            }
            current = OpenDescriptor(fd)
        }
        return current
    }

    /// Opens the directory `name` inside `directory`, refusing symlinks.
    func child(_ name: [UInt8], of directory: OpenDescriptor) throws(FileSystemFault) -> OpenDescriptor {
        let fd = openat(directory.fd, cString(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw .system(operation: "open directory", errno: errno) }
        return OpenDescriptor(fd)
    }

    /// The type of `name` in `directory` (not following a symlink), or `nil` if it does not exist.
    func kind(in directory: OpenDescriptor, _ name: [UInt8]) throws(FileSystemFault) -> FileKind? {
        var info = stat()
        guard fstatat(directory.fd, cString(name), &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return nil }
            throw .system(operation: "lstat", errno: errno)
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    /// The names in `directory`, without `.` and `..`.
    func children(of directory: OpenDescriptor) throws(FileSystemFault) -> [[UInt8]] {
        let copy = dup(directory.fd)
        guard copy >= 0 else { throw .system(operation: "dup", errno: errno) }
        guard let stream = fdopendir(copy) else {
            let code = errno
            close(copy)
            throw .system(operation: "opendir", errno: code)
        }
        defer { closedir(stream) }
        // The dup shares its offset with `directory`: start from the beginning every time.
        rewinddir(stream)
        var names: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(name)
        }
        return names
    }

    // MARK: - Removal

    /// Removes `name` from `directory`; a directory is removed with everything below it.
    func removeTree(in directory: OpenDescriptor, _ name: [UInt8]) throws(FileSystemFault) {
        if try kind(in: directory, name) == .directory {
            let inner = try child(name, of: directory)
            for entry in try children(of: inner) {
                try removeTree(in: inner, entry)
            }
            guard unlinkat(directory.fd, cString(name), AT_REMOVEDIR) == 0 else {
                throw .system(operation: "rmdir", errno: errno)
            }
        } else if unlinkat(directory.fd, cString(name), 0) != 0 && errno != ENOENT {
            throw .system(operation: "unlink", errno: errno)
        }
    }

    // MARK: - Creation

    func makeDirectory(in directory: OpenDescriptor, _ name: [UInt8]) throws(FileSystemFault) {
        guard mkdirat(directory.fd, cString(name), 0o700) == 0 else { throw .system(operation: "mkdir", errno: errno) }
    }

    /// Creates a new regular file (never opening an existing one) for writing.
    func createFile(in directory: OpenDescriptor, _ name: [UInt8]) throws(FileSystemFault) -> OpenDescriptor {
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        let fd = openat(directory.fd, cString(name), flags, 0o600)
        guard fd >= 0 else { throw .system(operation: "create", errno: errno) }
        return OpenDescriptor(fd)
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ file: OpenDescriptor, offset: Int64, _ bytes: UnsafeRawBufferPointer) throws(FileSystemFault) {
        var done = 0
        while done < bytes.count {
            let count = pwrite(file.fd, bytes.baseAddress?.advanced(by: done), bytes.count - done, off_t(offset) + off_t(done))
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "write", errno: errno)
            }
            done += count
        }
    }

    /// Sets the file length (leaving a trailing hole for sparse files).
    func truncate(_ file: OpenDescriptor, to size: Int64) throws(FileSystemFault) {
        guard ftruncate(file.fd, off_t(size)) == 0 else { throw .system(operation: "truncate", errno: errno) }
    }

    func symlink(target: [UInt8], in directory: OpenDescriptor, _ name: [UInt8]) throws(FileSystemFault) {
        guard symlinkat(cString(target), directory.fd, cString(name)) == 0 else {
            throw .system(operation: "symlink", errno: errno)
        }
    }

    /// Hard-links `targetName` in `targetDirectory` as `name` in `directory` (a symlink target is linked itself).
    func link(_ targetName: [UInt8], in targetDirectory: OpenDescriptor, as name: [UInt8], in directory: OpenDescriptor)
        throws(FileSystemFault)
    {
        guard linkat(targetDirectory.fd, cString(targetName), directory.fd, cString(name), 0) == 0 else {
            throw .system(operation: "link", errno: errno)
        }
    }

    /// Creates a FIFO or a character or block device node.
    func makeNode(in directory: OpenDescriptor, _ name: [UInt8], kind: NodeKind, device: UInt64) throws(FileSystemFault) {
        let type: mode_t
        switch kind {
        case .fifo: type = S_IFIFO
        case .characterDevice: type = S_IFCHR
        case .blockDevice: type = S_IFBLK
        }
        guard mknodat(directory.fd, cString(name), type | 0o600, dev_t(device)) == 0 else {
            throw .system(operation: "mknod", errno: errno)
        }
    }

    // MARK: - Metadata

    func setOwner(in directory: OpenDescriptor, _ name: [UInt8], uid: UInt32, gid: UInt32) throws(FileSystemFault) {
        guard fchownat(directory.fd, cString(name), uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw .system(operation: "lchown", errno: errno)
        }
    }

    /// Sets permission bits; the caller guarantees `name` is not a symlink (Linux cannot chmod one).
    func setMode(in directory: OpenDescriptor, _ name: [UInt8], _ mode: UInt32) throws(FileSystemFault) {
        guard fchmodat(directory.fd, cString(name), mode_t(mode & 0o7777), 0) == 0 else {
            throw .system(operation: "chmod", errno: errno)
        }
    }

    /// Sets one extended attribute on `name` itself (a symlink is not followed).
    ///
    /// Goes through `/proc/self/fd/<directory>/<name>`: the directory is the one already
    /// resolved, and `lsetxattr` does not follow the last component.
    func setXattr(in directory: OpenDescriptor, _ name: [UInt8], key: String, value: [UInt8]) throws(FileSystemFault) {
        let path = Array("/proc/self/fd/\(directory.fd)/".utf8) + name
        let status = value.withUnsafeBytes { bytes in
            lsetxattr(cString(path), key, bytes.baseAddress, bytes.count, 0)
        }
        guard status == 0 else { throw .system(operation: "lsetxattr \(key)", errno: errno) }
    }

    /// Sets access and modification time of `name` itself to `seconds.nanoseconds`.
    func setTimes(in directory: OpenDescriptor, _ name: [UInt8], seconds: Int64, nanoseconds: Int64) throws(FileSystemFault) {
        let time = timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds))
        let times = [time, time]
        guard utimensat(directory.fd, cString(name), times, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw .system(operation: "utimensat", errno: errno)
        }
    }

    private func cString(_ bytes: [UInt8]) -> [CChar] {
        bytes.map { CChar(bitPattern: $0) } + [0]
    }
}

/// An open file descriptor, closed when the last reference goes.
final class OpenDescriptor {
    let fd: Int32

    init(_ fd: Int32) { self.fd = fd }

    deinit { close(fd) }
}

/// What `lstat` found.
enum FileKind: Equatable {
    case directory
    case symlink
    case other
}

/// Special files made with `mknod`.
enum NodeKind {
    case fifo
    case characterDevice
    case blockDevice
}

/// A failed file system step, mapped by the applier to a ``LayerError`` naming layer and entry.
enum FileSystemFault: Error {
    /// This prefix of the path is a symlink.
    case symlinkComponent([UInt8])
    /// This prefix of the path is not a directory.
    case notDirectory([UInt8])
    case system(operation: String, errno: Int32)
}
