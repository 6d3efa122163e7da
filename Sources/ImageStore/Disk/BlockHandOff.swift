import Foundation

/// Blocks handed from a writer's thread to a thread of its own, in order, through a fixed set
/// of aligned buffers: the writer takes a free buffer, fills it and queues it with the block it
/// starts at, or queues a punched range; the worker (``serve(buffer:punch:)``) handles them in
/// order and keeps the first failure, which the writer's next call throws. A buffer goes back
/// to the free list when the worker is done with it, or, when the worker hands it on (to the
/// ``VerityBlockHasher``), when ``release(_:)`` is called for it. ``EXT4BlockFile`` runs one for
/// its disk writes.
///
/// `@unchecked Sendable`: `free` is guarded by `condition`; a buffer is written by the writer
/// only while it is on no list (taken from the free list) and read by the worker (and whoever
/// it hands the buffer to) only until it is released.
final class BlockHandOff: @unchecked Sendable {
    /// What the writer queues.
    enum Item {
        /// `bytes` of buffer `slot`, a whole number of blocks, starting at block `first`.
        case buffer(slot: Int, first: UInt64, bytes: Int)
        /// `count` blocks from `first` were punched.
        case punch(first: UInt64, count: UInt64)
        /// The writer is gone: the worker returns.
        case end
    }

    /// The buffers, each `bufferSize` bytes aligned to a 4 KiB block (as `O_DIRECT` needs).
    let buffers: [UnsafeMutableRawBufferPointer]
    private let work = OrderedWork<Item>()
    private let condition = NSCondition()
    private var free: [Int]

    init(buffers count: Int, bufferSize: Int) {
        buffers = (0..<count).map { _ in .allocate(byteCount: bufferSize, alignment: 4096) }
        free = Array(0..<count)
    }

    deinit { for buffer in buffers { buffer.deallocate() } }

    /// A free buffer's index, waiting for one.
    /// - Throws: the worker's first failure.
    func takeFree() throws(DiskError) -> Int {
        try work.check()
        condition.lock()
        while free.isEmpty { condition.wait() }
        let slot = free.removeFirst()
        condition.unlock()
        do throws(DiskError) {
            try work.check()
        } catch {
            release(slot)
            throw error
        }
        return slot
    }

    /// Gives back a buffer: one taken and not queued, or one the worker handed on.
    func release(_ slot: Int) {
        condition.lock()
        free.append(slot)
        condition.broadcast()
        condition.unlock()
    }

    /// Queues `item` for the worker.
    func enqueue(_ item: Item) { work.enqueue(item) }

    /// - Throws: the worker's first failure, if any.
    func check() throws(DiskError) { try work.check() }

    /// Waits until the worker has handled every queued item (buffers it handed on may still be
    /// in use).
    /// - Throws: the worker's first failure.
    func drain() throws(DiskError) { try work.drain() }

    /// The worker's loop, on its own thread: hands each queued buffer (with its slot) and punch
    /// to the closures in order until ``Item/end``; after a failure it only frees buffers.
    /// `buffer` returns whether it is done with the buffer; `false` means it handed the slot on
    /// and ``release(_:)`` gives it back later. A buffer whose closure throws is freed here.
    func serve(
        buffer: (UnsafeRawBufferPointer, _ first: UInt64, _ slot: Int) throws(DiskError) -> Bool,
        punch: (_ first: UInt64, _ count: UInt64) throws(DiskError) -> Void
    ) {
        work.serve { item, failed throws(DiskError) in
            switch item {
            case .end:
                return false
            case .buffer(let slot, let first, let bytes):
                var done = true
                defer { if done { release(slot) } }
                if !failed { done = try buffer(UnsafeRawBufferPointer(rebasing: buffers[slot][0..<bytes]), first, slot) }
                return true
            case .punch(let first, let count):
                if !failed { try punch(first, count) }
                return true
            }
        }
    }
}
