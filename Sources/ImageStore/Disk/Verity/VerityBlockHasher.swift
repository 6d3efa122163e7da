/// dm-verity level 0 while a disk is written: SHA-256(salt ‖ block) of every block the writer
/// writes, hashed in place from the writer's own buffer, so the tree needs no second pass over
/// the data and no copy of it.
///
/// ``EXT4BlockFile``'s disk-write thread hands over each buffer right after writing it (whole
/// blocks; fewer bytes at the end are hashed zero-padded) and each punched range, in its order.
/// The 32-byte hash of block `b` is written at `b × 32` of an unlinked ``SpoolFile``, so memory
/// stays at one buffer of hashes whatever the disk size. A punched range is punched there too.
/// A later write of a block replaces its hash: the store holds the hash of each block's last
/// content. Blocks never written (and punched ones) read back as 32 zero bytes, which
/// ``VerityTreeWriter`` takes for the hash of a zero block (no SHA-256 is zero).
///
/// ```
/// disk-write thread:  pwrite(buffer) ─▶ record(buffer, at:) ─▶ SHA-256(salt ‖ block) per block
///                                                            ─▶ store.write(hashes, at: b × 32)
/// ```
///
/// Confined to one thread at a time, like the file it follows (its disk-write thread until the
/// file is drained, then the caller's, for ``finish()``).
final class VerityBlockHasher {
    /// Blocks hashed per store write.
    static let batchBlocks = 256

    private let salt: [UInt8]
    private let store: SpoolFile
    private let hasher = SHA256()
    private var hashes = [UInt8](repeating: 0, count: VerityBlockHasher.batchBlocks * Verity.digestSize)
    /// One zero-padded block, for a write that ends inside a block.
    private var tail = [UInt8](repeating: 0, count: Verity.blockSize)

    /// Creates the store beside `output`.
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)`` when the store cannot be created.
    init(salt: [UInt8], beside output: String) throws(DiskError) {
        self.salt = salt
        store = try SpoolFile(beside: output)
    }

    /// `bytes` were written at block `block`: a whole number of blocks, or fewer bytes at the
    /// end, which the file holds zero-padded to a whole block.
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)`` when the hashes cannot be stored.
    func record(_ bytes: UnsafeRawBufferPointer, at block: UInt64) throws(DiskError) {
        let blockSize = Verity.blockSize
        let whole = bytes.count / blockSize
        var done = 0
        while done < whole {
            let count = min(Self.batchBlocks, whole - done)
            let blocks = UnsafeRawBufferPointer(rebasing: bytes[(done * blockSize)..<((done + count) * blockSize)])
            try hashAndStore(blocks, count: count, at: block + UInt64(done))
            done += count
        }
        let rest = bytes.count - whole * blockSize
        guard rest > 0 else { return }
        var failure: DiskError?
        tail.withUnsafeMutableBytes { padded in
            padded.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[(whole * blockSize)...]))
            UnsafeMutableRawBufferPointer(rebasing: padded[rest...]).initializeMemory(as: UInt8.self, repeating: 0)
            do throws(DiskError) {
                try hashAndStore(UnsafeRawBufferPointer(padded), count: 1, at: block + UInt64(whole))
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// `count` blocks from `block` were punched out of the file (they read back as zeros).
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)`` when the store cannot be punched.
    func recordPunch(_ block: UInt64, count: UInt64) throws(DiskError) {
        try store.punch(at: Int64(block) * Int64(Verity.digestSize), length: Int64(count) * Int64(Verity.digestSize))
    }

    /// The store of level 0, once every write has been recorded.
    func finish() -> SpoolFile { store }

    /// Hashes `count` whole blocks and writes their hashes at block `first`'s place.
    private func hashAndStore(_ blocks: UnsafeRawBufferPointer, count: Int, at first: UInt64) throws(DiskError) {
        Verity.hashBlocks(blocks, count: count, salt: salt, into: &hashes, hasher: hasher)
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
