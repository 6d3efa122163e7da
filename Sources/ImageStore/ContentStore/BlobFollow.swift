import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blob being downloaded, readable while it grows: the temp file of its ``BlobWriter`` and how
/// far it is written, so a layer is inflated and applied while its own bytes still arrive.
///
/// The downloader reports progress (``advance(to:)``), the end of the data (``endOfData()``) or
/// that the bytes are void (``fail()``: the transfer failed, or restarted from zero for a server
/// that ignored a Range request). A reader past the written end waits in ``wait(beyond:)``.
/// Reading early is safe because nothing read is trusted before the blob's digest is verified:
/// the disk that the bytes go into is published only after every layer's blob is stored
/// (``LayerArrivals/wait(_:)``); a failed follow fails the build, which the caller retries.
///
/// `@unchecked Sendable`: its state is guarded by `condition`.
public final class BlobFollow: @unchecked Sendable {
    /// What a reader past the written end learns.
    enum Progress: Equatable {
        /// Bytes up to this offset are in the file.
        case available(Int64)
        /// Every byte is written; the file ends at this offset.
        case end(Int64)
        /// The transfer failed or restarted; what was read is void.
        case failed
    }

    private let condition = NSCondition()
    private var written: Int64 = 0
    private var ended = false
    private var failed = false
    /// A read-only descriptor of the temp file, opened while the name still exists (the rename
    /// into the store and an unlink on failure both leave it readable).
    private let descriptor: Int32
    /// The temp file's path, for messages.
    let path: String

    /// Opens `path` (the writer's temp file) for reading.
    /// - Throws: `ContentStoreError.fileSystem` when it cannot be opened.
    init(path: String) throws(ContentStoreError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .fileSystem(path: path, operation: "open", code: errno) }
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// A new descriptor of the file, owned by the caller (each reader keeps its own offset).
    func duplicateDescriptor() -> Int32 { dup(descriptor) }

    /// `count` bytes are in the file.
    func advance(to count: Int64) {
        condition.lock()
        if count > written {
            written = count
            condition.broadcast()
        }
        condition.unlock()
    }

    /// Every byte is written.
    func endOfData() {
        condition.lock()
        ended = true
        condition.broadcast()
        condition.unlock()
    }

    /// The bytes are void: the transfer failed or starts over.
    func fail() {
        condition.lock()
        if !ended { failed = true }
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until more than `offset` bytes are written, the data ended or the transfer failed.
    func wait(beyond offset: Int64) -> Progress {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if failed { return .failed }
            if written > offset { return .available(written) }
            if ended { return .end(written) }
            condition.wait()
        }
    }
}
