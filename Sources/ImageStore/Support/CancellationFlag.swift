import Synchronization

/// Carries a task's cancellation into blocking work on ``BlockingExecutor``, where
/// `Task.isCancelled` cannot be asked: set from `withTaskCancellationHandler`, polled by the
/// curl progress callback, the layer unpack loop and the disk tree walk.
final class CancellationFlag: Sendable {
    private let cancelled = Atomic<Bool>(false)

    /// Marks the work cancelled.
    func cancel() { cancelled.store(true, ordering: .relaxed) }

    /// `true` once the task that started the work was cancelled.
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// Runs `body` on the shared ``BlockingExecutor``; cancelling the calling task sets the flag
    /// that `body` polls.
    static func runBlocking<T: Sendable>(
        _ body: @escaping @Sendable (CancellationFlag) throws -> T
    ) async throws -> T {
        let flag = CancellationFlag()
        let result = try await withTaskCancellationHandler {
            try await BlockingExecutor.shared.run { try body(flag) }
        } onCancel: {
            flag.cancel()
        }
        try Task.checkCancellation()
        return result
    }
}
