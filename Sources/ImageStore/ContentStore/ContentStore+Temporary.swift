import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Temp files of the content store: `.tmp-<pid>-<uuid>`, each held under an exclusive `flock`
/// by its writer for as long as it writes, so a download or index rewrite cut short by a crash
/// can be cleaned up as soon as its writer is gone, without waiting for a gc grace period.
///
/// A lock, not the pid in the name, decides: pids mean nothing across PID namespaces
/// (containers sharing a data directory), and the kernel drops a dead process's lock itself.
/// A writer creates its file with mode 0000, takes the lock, then makes it 0600; cleanup
/// removes only files that are 0600 and whose lock it can take, so a file between `open` and
/// `flock` (still 0000) is never mistaken for an abandoned one.
extension ContentStore {
    /// A fresh temp file name for this process.
    static func temporaryName() -> String {
        ".tmp-\(getpid())-\(UUID().uuidString.lowercased())"
    }

    /// Creates the temp file `path` for writing and holds its lock until the descriptor is
    /// closed.
    ///
    /// - Returns: the descriptor, open for writing.
    /// - Throws: `ContentStoreError.fileSystem`.
    static func createLockedTemporary(_ path: String) throws(ContentStoreError) -> Int32 {
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0)
        guard descriptor >= 0 else { throw .fileSystem(path: path, operation: "open", code: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0, fchmod(descriptor, 0o600) == 0 else {
            let code = errno
            close(descriptor)
            unlink(path)
            throw .fileSystem(path: path, operation: "lock", code: code)
        }
        return descriptor
    }

    /// Removes the temp files (in the layout root and `blobs/`) whose writer no longer holds
    /// them, in this PID namespace or any other. Blocking.
    /// - Returns: how many were removed, and a description of each that could not be.
    @discardableResult
    public func removeTemporaryFilesOfDeadWriters() -> (removed: Int, failures: [String]) {
        removeTemporaryFiles { info in info.st_mode & 0o777 != 0 }
    }

    /// Removes the temp files last modified before `cutoff` that no writer holds: a live
    /// download holds its lock all the time, however slow it is. Blocking.
    /// - Returns: how many were removed, and a description of each that could not be.
    @discardableResult
    public func removeTemporaryFiles(olderThan cutoff: Date) -> (removed: Int, failures: [String]) {
        removeTemporaryFiles { info in Double(info.st_mtim.tv_sec) < cutoff.timeIntervalSince1970 }
    }

    /// Removes the `.tmp-` regular files of the layout root and `blobs/` that `isStale(stat)`
    /// picks and whose lock no writer holds; the lock is kept until the file is unlinked.
    private func removeTemporaryFiles(where isStale: (stat) -> Bool) -> (removed: Int, failures: [String]) {
        var removed = 0
        var failures: [String] = []
        for directory in [root, root.appendingPathComponent("blobs")] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            where name.contains(".tmp-") {
                let path = directory.appendingPathComponent(name).path
                let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
                guard descriptor >= 0 else { continue }
                defer { close(descriptor) }
                var info = stat()
                guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, isStale(info),
                    flock(descriptor, LOCK_EX | LOCK_NB) == 0
                else { continue }
                if unlink(path) == 0 {
                    removed += 1
                } else if errno != ENOENT {
                    failures.append(ContentStoreError.fileSystem(path: path, operation: "unlink", code: errno).description)
                }
            }
        }
        return (removed, failures)
    }
}
