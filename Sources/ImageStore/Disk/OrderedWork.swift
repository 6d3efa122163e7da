import Foundation

/// Items handed from a writer's thread to a worker thread of their own, in order, with the
/// worker's first failure kept for the writer: ``BlockHandOff`` (the disk writes) and
/// ``VerityBlockHasher`` (the hashing) each run one.
///
/// `@unchecked Sendable`: `state` is guarded by `condition`.
final class OrderedWork<Item>: @unchecked Sendable {
    private struct State {
        var queue: [Item] = []
        /// Items taken by the worker and not yet done.
        var busy = 0
        var failure: DiskError?
    }

    private let condition = NSCondition()
    private var state = State()

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

    /// The worker's loop, on its own thread: hands each item in order to `handle`, with whether
    /// an earlier item failed (the item is then only to be let go), until `handle` returns
    /// `false`. A failure `handle` throws is kept and thrown to the writer by its next call.
    func serve(_ handle: (Item, _ failed: Bool) throws(DiskError) -> Bool) {
        while true {
            condition.lock()
            while state.queue.isEmpty { condition.wait() }
            state.busy += 1
            let item = state.queue.removeFirst()
            let failed = state.failure != nil
            condition.unlock()
            var failure: DiskError?
            var more = true
            do throws(DiskError) {
                more = try handle(item, failed)
            } catch {
                failure = error
            }
            condition.lock()
            state.busy -= 1
            if let failure, state.failure == nil { state.failure = failure }
            condition.broadcast()
            condition.unlock()
            if !more { return }
        }
    }
}
