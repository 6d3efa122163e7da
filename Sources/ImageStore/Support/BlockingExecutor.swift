import Foundation

/// A fixed set of threads for blocking C calls (libcurl, libarchive, fsync).
///
/// The cooperative pool has about one thread per core; a thread parked in
/// `curl_easy_perform` or `archive_read_data` there stalls every task. Work is
/// entered through ``run(_:)``, which suspends the caller until a dedicated
/// thread has run the closure. The only other threads ImageStore makes are InflatePipe's (one
/// per layer being read, for the whole layer, so that inflating never holds one of these) and
/// ``runOnOwnThread(_:)``'s (one per layer applied while it downloads).
public final class BlockingExecutor: Sendable {
    private let queue: JobQueue

    /// The process-wide executor, sized by ``configure(threads:)`` before first use.
    public static let shared = BlockingExecutor(threads: BlockingExecutor.defaultThreads)

    /// Threads the shared executor starts with: `IMAGE_WORKER_BLOCKING_THREADS` or 8.
    static var defaultThreads: Int {
        if let text = ProcessInfo.processInfo.environment["IMAGE_WORKER_BLOCKING_THREADS"],
            let value = Int(text), value > 0
        {
            return value
        }
        return 8
    }

    /// Starts `threads` dedicated threads.
    public init(threads: Int) {
        queue = JobQueue()
        for index in 0..<max(1, threads) {
            let thread = Thread { [queue] in queue.serve() }
            thread.name = "image-worker-blocking-\(index)"
            thread.start()
        }
    }

    /// Runs `body` on a dedicated thread and returns its result.
    ///
    /// - Parameter body: blocking work; it must not touch the caller's isolated state.
    /// - Returns: what `body` returned.
    /// - Throws: what `body` threw.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.push {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Runs `body` on a new thread of its own and returns its result: for blocking work that
    /// may wait on work the executor's threads do (a layer read while its download, which runs
    /// on them, still writes it), so it never holds one of them while it waits.
    ///
    /// - Throws: what `body` threw.
    public static func runOnOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.name = "image-worker-follow"
            thread.start()
        }
    }
}

/// The jobs waiting for a thread. `@unchecked Sendable`: every field is guarded by `condition`.
private final class JobQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []

    func push(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func serve() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
