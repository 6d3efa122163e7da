import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension FileTree {
    /// Makes `path` a directory only its owner can enter: created with `mode` (0700 unless
    /// told otherwise) and its missing parents with 0755; an existing one is checked to be a
    /// directory owned by this user and tightened to `mode` when it is wider. Blocking.
    ///
    /// - Parameters:
    ///   - followSymlinks: `true` for a directory the operator named (the data directory may be
    ///     a symlink); `false` for one image-worker owns inside a directory others can write,
    ///     where a symlink or a directory of another user planted there is refused.
    ///   - group: when given, the directory's group (mode bits for the group come from `mode`).
    /// - Throws: ``FileSystemError/unsafeDirectory(path:reason:)``, ``FileSystemError/io(path:operation:errno:)``.
    public static func makePrivateDirectory(
        _ path: String, mode: mode_t = 0o700, followSymlinks: Bool, group: gid_t? = nil
    ) throws(FileSystemError) {
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw .io(path: parent, operation: "mkdir", errno: EACCES)
        }
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw .io(path: path, operation: "mkdir", errno: errno)
        }
        var info = stat()
        guard (followSymlinks ? stat(path, &info) : lstat(path, &info)) == 0 else {
            throw .io(path: path, operation: "stat", errno: errno)
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw .unsafeDirectory(path: path, reason: followSymlinks ? "is not a directory" : "is not a directory (or is a symlink)")
        }
        guard info.st_uid == geteuid() else {
            throw .unsafeDirectory(path: path, reason: "belongs to uid \(info.st_uid), not to this user (uid \(geteuid()))")
        }
        if let group, info.st_gid != group {
            guard chown(path, uid_t.max, group) == 0 else { throw .io(path: path, operation: "chown", errno: errno) }
        }
        if info.st_mode & 0o7777 != mode {
            guard chmod(path, mode) == 0 else { throw .io(path: path, operation: "chmod", errno: errno) }
        }
    }
}
