import Foundation

/// Blocks handed from a writer's thread to a thread of its own, in order, through a fixed set
/// of aligned buffers: the writer takes a free buffer, fills it and queues it with the block it
/// starts at, or queues a punched range; the worker (``serve(buffer:punch:)``) handles them in
/// order, frees each buffer when done and keeps the first failure, which the writer's next call
/// throws. ``EXT4BlockFile`` (its disk writes) and ``VerityBlockHasher`` (its hashing) run one each.
///
/// `@unchecked Sendable`: `state` is guarded by `condition`; a buffer is written by the writer
/// only while it is on no list (taken from the free list) and read by the worker only while its
/// item is being worked on.
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

    private struct State {
        var free: [Int]
        var queue: [Item] = []
        /// Items taken by the worker and not yet done.
        var busy = 0
        var failure: DiskError?
    }

    /// The buffers, each `bufferSize` bytes aligned to a 4 KiB block (as `O_DIRECT` needs).
    let buffers: [UnsafeMutableRawBufferPointer]
    private let condition = NSCondition()
    private var state: State

    init(buffers count: Int, bufferSize: Int) {
        buffers = (0..<count).map { _ in .allocate(byteCount: bufferSize, alignment: 4096) }
        state = State(free: Array(0..<count))
    }

    deinit { for buffer in buffers { buffer.deallocate() } }

    /// A free buffer's index, waiting for one.
    /// - Throws: the worker's first failure.
    func takeFree() throws(DiskError) -> Int {
        condition.lock()
        defer { condition.unlock() }
        while state.free.isEmpty && state.failure == nil { condition.wait() }
        if let failure = state.failure { throw failure }
        return state.free.removeFirst()
    }

    /// Gives back a buffer taken and not queued.
    func release(_ buffer: Int) {
        condition.lock()
        state.free.append(buffer)
        condition.broadcast()
        condition.unlock()
    }

    /// Queues `item` for the worker.
    func enqueue(_ item: Item) {
        condition.lock()
        state.queue.append(item)
        condition.broadcast()
        condition.unlock()
    }

    /// - Throws: the worker's first failure, if any.
    func check() throws(DiskError) {
        condition.lock()
        defer { condition.unlock() }
        if let failure = state.failure { throw failure }
    }

    /// Waits until every queued item is done.
    /// - Throws: the worker's first failure.
    func drain() throws(DiskError) {
        condition.lock()
        defer { condition.unlock() }
        while (!state.queue.isEmpty || state.busy > 0) && state.failure == nil { condition.wait() }
        if let failure = state.failure { throw failure }
    }

    /// The worker's loop, on its own thread: hands each queued buffer and punch to the closures
    /// in order until ``Item/end``; after a failure it only frees buffers.
    func serve(
        buffer: (UnsafeRawBufferPointer, _ first: UInt64) throws(DiskError) -> Void,
        punch: (_ first: UInt64, _ count: UInt64) throws(DiskError) -> Void
    ) {
        while true {
            condition.lock()
            while state.queue.isEmpty { condition.wait() }
            state.busy += 1
            let item = state.queue.removeFirst()
            let failed = state.failure != nil
            condition.unlock()
            var failure: DiskError?
            var freed: Int?
            do throws(DiskError) {
                switch item {
                case .end:
                    return
                case .buffer(let slot, let first, let bytes):
                    freed = slot
                    if !failed { try buffer(UnsafeRawBufferPointer(rebasing: buffers[slot][0..<bytes]), first) }
                case .punch(let first, let count):
                    if !failed { try punch(first, count) }
                }
            } catch {
                failure = error
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
