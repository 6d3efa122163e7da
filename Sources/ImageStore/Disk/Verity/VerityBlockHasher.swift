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

    private let channel: Channel

    /// Creates the store beside `output` and starts the hashing thread.
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)`` when the store cannot be created.
    init(salt: [UInt8], beside output: String) throws(DiskError) {
        channel = Channel(store: try SpoolFile(beside: output))
        let thread = Thread { [channel] in channel.hash(salt: salt) }
        thread.name = "verity"
        thread.start()
    }

    deinit { channel.enqueue(.end) }

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
            let slot = try channel.takeFreeSlot()
            let buffer = channel.buffers[slot]
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
            let blocks = (length + blockSize - 1) / blockSize
            if length < blocks * blockSize {
                UnsafeMutableRawBufferPointer(rebasing: buffer[length..<(blocks * blockSize)])
                    .initializeMemory(as: UInt8.self, repeating: 0)
            }
            channel.enqueue(.blocks(slot: slot, first: block + UInt64(offset / blockSize), count: blocks))
            offset += length
        }
    }

    /// `count` blocks from `block` were punched out of the file (they read back as zeros).
    func recordPunch(_ block: UInt64, count: UInt64) {
        channel.enqueue(.punch(first: block, count: count))
    }

    /// Waits until every recorded write is hashed and returns the store of level 0.
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)`` when the store could not be written.
    func finish() throws(DiskError) -> SpoolFile {
        try channel.drain()
        return channel.store
    }

    private enum Item {
        case blocks(slot: Int, first: UInt64, count: Int)
        case punch(first: UInt64, count: UInt64)
        case end
    }

    /// The buffers, the queue and the store, shared by the writer and the hashing thread.
    ///
    /// `@unchecked Sendable`: `state` is guarded by `condition`; a buffer is written by the
    /// writer only while it is on no list (taken from `free`) and read by the hashing thread
    /// only while its item is being hashed; the store is used by the hashing thread until it
    /// has taken everything queued, then by whoever called ``drain()``.
    private final class Channel: @unchecked Sendable {
        struct State {
            var free = Array(0..<VerityBlockHasher.slots)
            var queue: [Item] = []
            /// Items taken off the queue and not yet done.
            var busy = 0
            var failure: DiskError?
            var ended = false
        }

        let store: SpoolFile
        let buffers: [UnsafeMutableRawBufferPointer]
        private let condition = NSCondition()
        private var state = State()

        init(store: SpoolFile) {
            self.store = store
            buffers = (0..<VerityBlockHasher.slots).map { _ in
                .allocate(byteCount: VerityBlockHasher.slotBlocks * Verity.blockSize, alignment: 64)
            }
        }

        deinit { for buffer in buffers { buffer.deallocate() } }

        func takeFreeSlot() throws(DiskError) -> Int {
            condition.lock()
            defer { condition.unlock() }
            while state.free.isEmpty && state.failure == nil { condition.wait() }
            if let failure = state.failure { throw failure }
            return state.free.removeFirst()
        }

        func enqueue(_ item: Item) {
            condition.lock()
            state.queue.append(item)
            condition.broadcast()
            condition.unlock()
        }

        /// Waits until the queue is empty and nothing is being hashed.
        func drain() throws(DiskError) {
            condition.lock()
            defer { condition.unlock() }
            while (!state.queue.isEmpty || state.busy > 0) && state.failure == nil && !state.ended {
                condition.wait()
            }
            if let failure = state.failure { throw failure }
        }

        /// The hashing thread: takes items in order until ``Item/end``.
        func hash(salt: [UInt8]) {
            let hasher = SHA256()
            var hashes = [UInt8](repeating: 0, count: VerityBlockHasher.slotBlocks * Verity.digestSize)
            while true {
                condition.lock()
                while state.queue.isEmpty { condition.wait() }
                let item = state.queue.removeFirst()
                state.busy += 1
                let failed = state.failure != nil
                condition.unlock()
                var failure: DiskError?
                var freed: Int?
                switch item {
                case .end:
                    condition.lock()
                    state.busy -= 1
                    state.ended = true
                    condition.broadcast()
                    condition.unlock()
                    return
                case .blocks(let slot, let first, let count):
                    freed = slot
                    if !failed {
                        let data = UnsafeRawBufferPointer(buffers[slot])
                        Verity.hashBlocks(data, count: count, salt: salt, into: &hashes, hasher: hasher)
                        failure = hashes.withUnsafeBytes { raw -> DiskError? in
                            do throws(DiskError) {
                                try store.write(
                                    UnsafeRawBufferPointer(rebasing: raw[0..<(count * Verity.digestSize)]),
                                    at: Int64(first) * Int64(Verity.digestSize))
                                return nil
                            } catch {
                                return error
                            }
                        }
                    }
                case .punch(let first, let count):
                    if !failed {
                        do throws(DiskError) {
                            try store.punch(
                                at: Int64(first) * Int64(Verity.digestSize), length: Int64(count) * Int64(Verity.digestSize))
                        } catch {
                            failure = error
                        }
                    }
                }
                condition.lock()
                state.busy -= 1
                if let freed { state.free.append(freed) }
                if let failure, state.failure == nil { state.failure = failure }
                condition.broadcast()
                condition.unlock()
            }
        }
    }
}
