import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Streams one blob into a temp file of the content store, hashing while it writes.
///
/// Bytes are gathered into ``gatherSize`` before each `write(2)`: libcurl hands a body over in
/// pieces of at most 16 KiB, and one system call per piece (each also updates the file's
/// times) cost more than the copy into the gathering buffer. ``flush()`` writes what is
/// gathered; readers (``follow``) see bytes once they are in the file.
///
/// ``ContentStore/commit(_:as:)`` fsyncs it and renames it to `blobs/sha256/<hex>`; until then
/// nobody sees it. A writer dropped without commit deletes its temp file. The temp file is
/// 0600 and `flock`ed by the writer until it is closed (see ContentStore+Temporary); the blob
/// keeps the mode, so no other local user reads an image's layers.
///
/// `@unchecked Sendable`: it owns a file descriptor and a hasher and is used by one transfer at a
/// time, which moves between a blocking-executor thread and a task; `lock` orders those uses.
public final class BlobWriter: BlobSink, @unchecked Sendable {
    private struct State {
        var descriptor: Int32
        var hasher = SHA256()
        var count: Int64 = 0
        var digest: Digest?
        var writeBehind = WriteBehind()
        /// Bytes received and not yet written to the file.
        var gathered = 0
    }

    /// Bytes gathered before a `write(2)`.
    static let gatherSize = 256 * 1024
    /// The gathering buffer, used under `lock`.
    private let gathering = UnsafeMutableRawBufferPointer.allocate(byteCount: BlobWriter.gatherSize, alignment: 64)

    private let lock = NSLock()
    private var state: State
    /// The temp file being written.
    public let temporaryPath: String
    /// Readers of the bytes while they arrive (``ContentStore/makeWriter(followed:)``), or `nil`.
    let follow: BlobFollow?

    init(directory: URL, followed: Bool = false) throws(ContentStoreError) {
        let path = directory.appendingPathComponent(ContentStore.temporaryName()).path
        // Locked while this writer lives: cleanup of dead writers' files checks the lock.
        let descriptor = try ContentStore.createLockedTemporary(path)
        temporaryPath = path
        state = State(descriptor: descriptor)
        do {
            follow = followed ? try BlobFollow(path: path) : nil
        } catch {
            unlink(path)
            close(descriptor)
            throw error
        }
    }

    deinit {
        discard()
        gathering.deallocate()
    }

    public var count: Int64 { withLock { $0.count } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try withLock { state throws(ContentStoreError) in
            guard state.descriptor >= 0 else { throw .fileSystem(path: temporaryPath, operation: "write", code: EBADF) }
            state.hasher.update(bytes)
            var offset = 0
            while offset < bytes.count {
                let length = min(Self.gatherSize - state.gathered, bytes.count - offset)
                UnsafeMutableRawBufferPointer(rebasing: gathering[state.gathered..<(state.gathered + length)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
                // Counted as copied, so what is in the file is always `count - gathered`.
                state.count += Int64(length)
                state.gathered += length
                offset += length
                if state.gathered == Self.gatherSize { try writeGathered(&state) }
            }
        }
    }

    /// Writes the gathered bytes to the file, where readers see them.
    public func flush() throws {
        try withLock { state throws(ContentStoreError) in
            guard state.descriptor >= 0 else { throw .fileSystem(path: temporaryPath, operation: "write", code: EBADF) }
            try writeGathered(&state)
        }
    }

    private func writeGathered(_ state: inout State) throws(ContentStoreError) {
        guard state.gathered > 0 else { return }
        let count = state.gathered
        state.gathered = 0
        try writeAll(UnsafeRawBufferPointer(rebasing: gathering[0..<count]), &state)
    }

    /// Appends `bytes` (the gathered ones, hashed and counted) to the file.
    private func writeAll(_ bytes: UnsafeRawBufferPointer, _ state: inout State) throws(ContentStoreError) {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(state.descriptor, bytes.baseAddress?.advanced(by: offset), bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw .fileSystem(path: temporaryPath, operation: "write", code: errno)
            }
            offset += written
        }
        state.writeBehind.wrote(bytes.count, to: state.descriptor)
        follow?.advance(to: state.count - Int64(state.gathered))
    }

    public func reset() throws {
        try withLock { state throws(ContentStoreError) in
            guard ftruncate(state.descriptor, 0) == 0, lseek(state.descriptor, 0, SEEK_SET) == 0 else {
                throw .fileSystem(path: temporaryPath, operation: "truncate", code: errno)
            }
            state.hasher = SHA256()
            state.count = 0
            state.gathered = 0
            state.digest = nil
            // A reader already took bytes that are about to be written again.
            follow?.fail()
        }
    }

    public func digest() -> Digest {
        withLock { state in
            if let digest = state.digest { return digest }
            let digest = state.hasher.finalize()
            state.digest = digest
            return digest
        }
    }

    public func discard() {
        follow?.fail()
        withLock { state in
            guard state.descriptor >= 0 else { return }
            unlink(temporaryPath)
            close(state.descriptor)
            state.descriptor = -1
        }
    }

    /// fsyncs and closes the temp file, then renames it to `destination` unless a blob is
    /// already there (another process fetched it first: the bytes are equal, drop ours).
    ///
    /// Blocks in fsync: run it on the blocking executor.
    func finish(at destination: String) throws(ContentStoreError) {
        try withLock { state throws(ContentStoreError) in
            guard state.descriptor >= 0 else {
                throw .fileSystem(path: temporaryPath, operation: "commit", code: EBADF)
            }
            defer { state.descriptor = -1 }
            do throws(ContentStoreError) {
                try writeGathered(&state)
            } catch {
                close(state.descriptor)
                unlink(temporaryPath)
                throw error
            }
            guard fsync(state.descriptor) == 0 else {
                let code = errno
                close(state.descriptor)
                unlink(temporaryPath)
                throw .fileSystem(path: temporaryPath, operation: "fsync", code: code)
            }
            // Renamed (or dropped) before the descriptor closes: the lock must cover the temp
            // name until it is gone, or cleanup could take the file for a dead writer's.
            defer { close(state.descriptor) }
            if access(destination, F_OK) == 0 {
                unlink(temporaryPath)
                return
            }
            guard rename(temporaryPath, destination) == 0 else {
                let code = errno
                unlink(temporaryPath)
                throw .fileSystem(path: destination, operation: "rename", code: code)
            }
        }
    }

    private func withLock<T, E: Error>(_ body: (inout State) throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state)
    }
}
