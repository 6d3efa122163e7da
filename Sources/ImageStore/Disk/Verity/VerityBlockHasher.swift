import Foundation

/// dm-verity level 0 while a disk is written: SHA-256(salt ‖ block) of every block the writer
/// writes, on a thread of its own, so the tree needs no second pass over the data.
///
/// The writer hands over each write (whole blocks, the last one zero-padded) and each punched
/// range in its order. The bytes are copied into one of ``slots`` buffers and hashed on the
/// hashing thread; the 32-byte hash of block `b` is written at `b × 32` of an unlinked
/// ``SpoolFile``, so memory stays at the slots whatever the disk size. A punched range is
/// punched there too. A later write of a block replaces its hash: the store holds the hash of
/// each block's last content. Blocks never written (and punched ones) read back as 32 zero
/// bytes, which ``VerityTreeWriter`` takes for the hash of a zero block (no SHA-256 is zero).
///
/// ```
/// writer thread:  record(bytes, at:) ─copy─▶ [slot] ─▶ queue ─┐
/// hash thread:    SHA-256(salt ‖ block) per block ─▶ store.write(hashes, at: b × 32) ◀┘
/// ```
///
/// Confined to the writer's thread (one at a time), like the file it follows.
final class VerityBlockHasher {
    /// Buffers in flight between the writer and the hashing thread, and blocks per buffer.
    static let slots = 4
    static let slotBlocks = 256

    private let handOff = BlockHandOff(
        buffers: VerityBlockHasher.slots, bufferSize: VerityBlockHasher.slotBlocks * Verity.blockSize)
    private let store: SpoolFile

    /// Creates the store beside `output` and starts the hashing thread.
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)`` when the store cannot be created.
    init(salt: [UInt8], beside output: String) throws(DiskError) {
        store = try SpoolFile(beside: output)
        let thread = Thread { [handOff, store] in
            let hasher = SHA256()
            var hashes = [UInt8](repeating: 0, count: Self.slotBlocks * Verity.digestSize)
            handOff.serve(
                buffer: { blocks, first throws(DiskError) in
                    let count = blocks.count / Verity.blockSize
                    Verity.hashBlocks(blocks, count: count, salt: salt, into: &hashes, hasher: hasher)
                    let failure = hashes.withUnsafeBytes { raw -> DiskError? in
                        do throws(DiskError) {
                            try store.write(
                                UnsafeRawBufferPointer(rebasing: raw[0..<(count * Verity.digestSize)]),
                                at: Int64(first) * Int64(Verity.digestSize))
                            return nil
                        } catch {
                            return error
                        }
                    }
                    if let failure { throw failure }
                },
                punch: { first, count throws(DiskError) in
                    try store.punch(at: Int64(first) * Int64(Verity.digestSize), length: Int64(count) * Int64(Verity.digestSize))
                })
        }
        thread.name = "verity"
        thread.start()
    }

    deinit { handOff.enqueue(.end) }

    /// `bytes` were written at block `block`: a whole number of blocks, or fewer bytes at the
    /// end, which the file holds zero-padded to a whole block.
    ///
    /// - Throws: the first failure of the hashing thread.
    func record(_ bytes: UnsafeRawBufferPointer, at block: UInt64) throws(DiskError) {
        let blockSize = Verity.blockSize
        let slotBytes = Self.slotBlocks * blockSize
        var offset = 0
        while offset < bytes.count {
            let length = min(slotBytes, bytes.count - offset)
            let slot = try handOff.takeFree()
            let buffer = handOff.buffers[slot]
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
            let blocks = (length + blockSize - 1) / blockSize
            if length < blocks * blockSize {
                UnsafeMutableRawBufferPointer(rebasing: buffer[length..<(blocks * blockSize)])
                    .initializeMemory(as: UInt8.self, repeating: 0)
            }
            handOff.enqueue(.buffer(slot: slot, first: block + UInt64(offset / blockSize), bytes: blocks * blockSize))
            offset += length
        }
    }

    /// `count` blocks from `block` were punched out of the file (they read back as zeros).
    func recordPunch(_ block: UInt64, count: UInt64) {
        handOff.enqueue(.punch(first: block, count: count))
    }

    /// Waits until every recorded write is hashed and returns the store of level 0.
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)`` when the store could not be written.
    func finish() throws(DiskError) -> SpoolFile {
        try handOff.drain()
        return store
    }
}
