import Foundation
import Logging
import ServiceLifecycle

/// One worker process's build loop: claim → resolve (`pulling`) → pull → apply and export
/// (`converting`) → `ready`, or `failed`, or back to `pending` with backoff.
///
/// ```
/// slot 1..N:  claim ──▶ build (heartbeat every lease/3) ──▶ publish | fail | requeue | release
/// housekeeping: every recoveryInterval: recover expired leases, drop orphan conversions and
///               scratch, refresh gauges
/// ```
///
/// Runs as a swift-service-lifecycle `Service`. On graceful shutdown the slots stop claiming and
/// in-flight builds finish; if the group's deadline cancels them first, each build releases its
/// row to `pending` (its attempt given back) and removes its scratch.
public struct Worker: Service {
    public let configuration: WorkerConfiguration
    public let manager: ImageManager
    public let metrics: WorkerMetrics
    let logger: Logger

    /// Creates a worker over `manager`'s queue and data directory.
    public init(configuration: WorkerConfiguration, manager: ImageManager, logger: Logger) {
        self.configuration = configuration
        self.manager = manager
        self.metrics = WorkerMetrics()
        self.logger = logger
    }

    /// Runs until graceful shutdown (or cancellation).
    public func run() async throws {
        await housekeeping()
        logger.info(
            "worker started",
            metadata: [
                "worker": "\(configuration.workerName)", "host": "\(manager.queue.host)",
                "concurrency": "\(configuration.concurrency)",
            ])
        await withDiscardingTaskGroup { group in
            group.addTask {
                while await sleepUnlessShuttingDown(configuration.recoveryInterval) { await housekeeping() }
            }
            for slot in 1...configuration.concurrency {
                group.addTask { await claimLoop(slot: slot) }
            }
        }
        logger.info("worker stopped", metadata: ["worker": "\(configuration.workerName)"])
    }

    /// Claims and builds rows one at a time until shutdown.
    private func claimLoop(slot: Int) async {
        let workerID = "\(configuration.workerName):\(slot)"
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let claim: Claim?
            do {
                claim = try await manager.queue.claim(workerID: workerID)
            } catch {
                logger.warning("claim failed; retrying", metadata: ["error": "\(error)"])
                claim = nil
            }
            if let claim {
                await build(claim)
            } else if !(await waitForWork()) {
                return
            }
        }
    }

    /// Waits until another process commits (an INSERT, a retry, a released row) or the poll
    /// interval passes (backoff times come due without a commit). SQLite: checking
    /// `data_version` reads no table and takes no lock, so an idle worker answers an enqueue
    /// within ``WorkerConfiguration/wakeInterval`` without hammering the write lock.
    /// PostgreSQL: the queue's listener waits for the schema's NOTIFY, no polling, in waits of at
    /// most ``listenSlice`` so shutdown is noticed.
    /// - Returns: `false` at shutdown.
    private func waitForWork() async -> Bool {
        let queue = manager.queue
        let start = ContinuousClock.now
        let initial = try? await queue.dataVersion()
        while ContinuousClock.now - start < configuration.pollInterval {
            if let listener = queue.listener, let initial {
                guard !Task.isShuttingDownGracefully && !Task.isCancelled else { return false }
                let slice = min(configuration.pollInterval - (ContinuousClock.now - start), Self.listenSlice)
                do {
                    if try await listener.wait(beyond: initial, timeout: slice) { return true }
                    continue
                } catch {
                    logger.warning("listening for queue changes failed; polling", metadata: ["error": "\(error)"])
                }
            }
            guard await sleepUnlessShuttingDown(configuration.wakeInterval) else { return false }
            if let initial, let current = try? await queue.dataVersion(), current != initial { return true }
        }
        return true
    }

    /// The longest one LISTEN wait blocks before shutdown is checked again.
    static let listenSlice = Duration.milliseconds(250)

    /// Recovers expired leases and refreshes the gauges; errors are logged, never fatal.
    func housekeeping() async {
        do {
            let report = try await manager.recoverInterruptedBuilds()
            for row in report.rows {
                logger.notice(
                    "recovered interrupted build",
                    metadata: [
                        "id": "\(row.id)", "image": "\(row.name)", "outcome": "\(row.outcome.rawValue)",
                        "reason": "\(row.message)",
                    ])
            }
            for failure in report.cleanupFailures {
                logger.error("recovery could not remove a stale entry", metadata: ["error": "\(SafeText.escaping(failure))"])
            }
            metrics.queueObserved(countsByStatus: try await manager.queue.countsByStatus())
        } catch {
            logger.warning("housekeeping failed", metadata: ["error": "\(error)"])
        }
    }
}

/// Sleeps for `duration`; `false` when graceful shutdown or cancellation cut it short.
func sleepUnlessShuttingDown(_ duration: Duration) async -> Bool {
    do {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
        return !Task.isShuttingDownGracefully && !Task.isCancelled
    } catch {
        return false
    }
}
