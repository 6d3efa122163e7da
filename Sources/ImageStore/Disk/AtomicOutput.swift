import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A temp file beside a final path that becomes that path only once it is complete.
///
/// The temp file is `.<name>.tmp-<random>` in the final directory, so the rename stays on one
/// filesystem and is atomic: a reader sees either no file or the whole file, never a partial one.
/// ``commit()`` fsyncs the file, renames it into place and fsyncs the directory so the rename
/// survives a crash; ``discard()`` removes the temp file after a failure. Recovery may delete
/// stray `.*.tmp-*` files that no live build owns.
struct AtomicOutput: Sendable {
    /// Where the finished file goes.
    let finalPath: String
    /// Where the file is written until it is committed.
    let tempPath: String

    /// Creates the final directory if needed and picks a fresh temp name.
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)`` if the directory cannot be made.
    init(finalPath: String) throws(DiskError) {
        let url = URL(fileURLWithPath: finalPath)
        let directory = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: directory, operation: "mkdir", errno: AtomicOutput.posixCode(of: error))
        }
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        self.finalPath = url.path
        self.tempPath =
            URL(fileURLWithPath: directory).appendingPathComponent(
                ".\(url.lastPathComponent).tmp-\(random)"
            ).path
    }

    /// Makes the temp file durable and moves it to the final path. Blocking.
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)``.
    func commit() throws(DiskError) {
        try AtomicOutput.fsync(path: tempPath, flags: O_RDONLY)
        guard rename(tempPath, finalPath) == 0 else {
            throw .io(path: finalPath, operation: "rename", errno: errno)
        }
        try AtomicOutput.fsyncDirectory(of: finalPath)
    }

    /// Makes a rename into the directory of `path` durable. Blocking.
    static func fsyncDirectory(of path: String) throws(DiskError) {
        try fsync(path: URL(fileURLWithPath: path).deletingLastPathComponent().path, flags: O_RDONLY | O_DIRECTORY)
    }

    /// Removes the temp file (and a compressor's `.gz`/`.zst` sibling); errors are ignored since
    /// the export already failed.
    func discard() {
        for suffix in ["", ".gz", ".zst"] {
            unlink(tempPath + suffix)
        }
    }

    private static func fsync(path: String, flags: Int32) throws(DiskError) {
        let descriptor = open(path, flags | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        defer { close(descriptor) }
        guard Glibc.fsync(descriptor) == 0 else { throw .io(path: path, operation: "fsync", errno: errno) }
    }

    /// The errno inside a Foundation error, or EIO.
    static func posixCode(of error: any Error) -> Int32 {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let posix = underlying, posix.domain == NSPOSIXErrorDomain { return Int32(posix.code) }
        return EIO
    }
}
