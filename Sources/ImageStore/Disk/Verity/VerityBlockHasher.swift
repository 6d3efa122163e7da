import Foundation

/// dm-verity level 0 while a disk is written: SHA-256(salt ‖ block) of every block the writer
/// writes, on a thread of its own and straight from the writer's buffers, so the tree needs no
/// second pass over the data and no copy of it.
///
/// ``EXT4BlockFile``'s disk-write thread hands over each buffer right after writing it (whole
/// blocks: the file pads its buffers) together with what gives the buffer back, and each
/// punched range, in its order: hashing one buffer overlaps the write of the next. The 32-byte hash of block `b` is written at `b × 32` of an unlinked ``SpoolFile``, so
/// memory stays at one batch of hashes whatever the disk size. A punched range is punched there
/// too. A later write of a block replaces its hash: the store holds the hash of each block's
/// last content. Blocks never written (and punched ones) read back as 32 zero bytes, which
/// ``VerityTreeWriter`` takes for the hash of a zero block (no SHA-256 is zero).
///
/// ```
/// disk-write thread:  pwrite(buffer) ─▶ record(buffer, at:, whenHashed:) ─▶ queue ─┐
/// hash thread:        SHA-256(salt ‖ block) per block ─▶ store.write(hashes, at: b × 32)
///                     ─▶ whenHashed() (the buffer is free again) ◀────────────────┘
/// ```
///
/// Fed by one thread at a time, like the file it follows.
final class VerityBlockHasher {
    /// Blocks hashed per store write.
    static let batchBlocks = 256

    private enum Item {
        /// Whole blocks written from block `first`; `done` gives the
        /// bytes back to their owner once hashed (or dropped after a failure).
        case blocks(UnsafeRawBufferPointer, first: UInt64, done: @Sendable () -> Void)
        case punch(first: UInt64, count: UInt64)
        case end
    }

    private let work = OrderedWork<Item>()
    private let store: SpoolFile

    /// Creates the store beside `output` and starts the hashing thread.
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)`` when the store cannot be created.
    init(salt: [UInt8], beside output: String) throws(DiskError) {
        store = try SpoolFile(beside: output)
        let thread = Thread { [work, store] in
            var batch = LevelZeroBatch(salt: salt, store: store)
            work.serve { item, failed throws(DiskError) in
                switch item {
                case .end:
                    return false
                case .blocks(let bytes, let first, let done):
                    defer { done() }
                    if !failed { try batch.hash(bytes, at: first) }
                    return true
                case .punch(let first, let count):
                    if !failed {
                        try store.punch(
                            at: Int64(first) * Int64(Verity.digestSize), length: Int64(count) * Int64(Verity.digestSize))
                    }
                    return true
                }
            }
        }
        thread.name = "verity"
        thread.start()
    }

    deinit { work.enqueue(.end) }

    /// `bytes`, a whole number of blocks, were written from block `block`. They must stay as
    /// they are until `whenHashed` is called (on the hashing thread, once, also after a failure).
    ///
    /// - Throws: the first failure of the hashing thread (`whenHashed` is then not called).
    func record(
        _ bytes: UnsafeRawBufferPointer, at block: UInt64, whenHashed: @escaping @Sendable () -> Void
    ) throws(DiskError) {
        try work.check()
        work.enqueue(.blocks(bytes, first: block, done: whenHashed))
    }

    /// `count` blocks from `block` were punched out of the file (they read back as zeros).
    ///
    /// - Throws: the first failure of the hashing thread.
    func recordPunch(_ block: UInt64, count: UInt64) throws(DiskError) {
        try work.check()
        work.enqueue(.punch(first: block, count: count))
    }

    /// Waits until every recorded write is hashed and returns the store of level 0.
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)`` when the store could not be written.
    func finish() throws(DiskError) -> SpoolFile {
        try work.drain()
        return store
    }
}

/// The hashing thread's state: SHA-256 with the salt absorbed once and one batch of hashes.
private struct LevelZeroBatch {
    let salt: [UInt8]
    let store: SpoolFile
    private let hasher = SHA256()
    private var hashes = [UInt8](repeating: 0, count: VerityBlockHasher.batchBlocks * Verity.digestSize)

    init(salt: [UInt8], store: SpoolFile) {
        self.salt = salt
        self.store = store
    }

    /// Hashes `bytes` (whole blocks) written from block `block` into the store.
    mutating func hash(_ bytes: UnsafeRawBufferPointer, at block: UInt64) throws(DiskError) {
        let blockSize = Verity.blockSize
        let whole = bytes.count / blockSize
        var done = 0
        while done < whole {
            let count = min(VerityBlockHasher.batchBlocks, whole - done)
            let blocks = UnsafeRawBufferPointer(rebasing: bytes[(done * blockSize)..<((done + count) * blockSize)])
            try hashAndStore(blocks, count: count, at: block + UInt64(done))
            done += count
        }
    }

    /// Hashes `count` whole blocks and writes their hashes at block `first`'s place.
    private mutating func hashAndStore(_ blocks: UnsafeRawBufferPointer, count: Int, at first: UInt64) throws(DiskError) {
        Verity.hashBlocks(blocks, count: count, salt: salt, into: &hashes, hasher: hasher)
        let store = store
        var failure: DiskError?
        hashes.withUnsafeBytes { raw in
            do throws(DiskError) {
                try store.write(
                    UnsafeRawBufferPointer(rebasing: raw[0..<(count * Verity.digestSize)]),
                    at: Int64(first) * Int64(Verity.digestSize))
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }
}
