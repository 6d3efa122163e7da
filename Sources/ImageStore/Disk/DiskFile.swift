import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Moving a finished disk file to its published path, and measuring it.
public enum DiskFile {
    /// Renames a complete, fsynced file to `destination` (same filesystem), creating the
    /// directory, and fsyncs that directory so the rename survives a crash. The file becomes
    /// mode 0600 first, or 0640 of `group`: a published disk holds another party's image,
    /// readable by the worker's user (and the VM manager's group, ``DataLayout/diskGroup``)
    /// only. Blocking.
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)``.
    public static func moveIntoPlace(_ source: URL, to destination: URL, group: gid_t? = nil) throws(DiskError) {
        let directory = destination.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: directory, operation: "mkdir", errno: AtomicOutput.posixCode(of: error))
        }
        if let group, chown(source.path, uid_t.max, group) != 0 {
            throw .io(path: source.path, operation: "chown", errno: errno)
        }
        guard chmod(source.path, group == nil ? 0o600 : 0o640) == 0 else {
            throw .io(path: source.path, operation: "chmod", errno: errno)
        }
        guard rename(source.path, destination.path) == 0 else {
            throw .io(path: destination.path, operation: "rename", errno: errno)
        }
        try AtomicOutput.fsyncDirectory(of: destination.path)
    }

    /// Bytes `path` takes on disk (allocated blocks, not apparent size); 0 when missing.
    public static func allocatedBytes(_ path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Int64(info.st_blocks) * 512
    }
}
