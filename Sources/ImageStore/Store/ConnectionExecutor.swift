import Foundation

/// The serial executor of one database connection (``SQLiteConnection``,
/// ``PostgresConnection``): a dedicated thread that runs the connection actor's jobs one after
/// another.
///
/// `sqlite3_step` may sleep in the busy handler for up to `busy_timeout`, and every libpq call
/// waits for the server; on the cooperative pool (one thread per core) that would stall every
/// task, so each connection gets its own thread, as GRDB gives each connection a serial
/// DispatchQueue. `@unchecked Sendable`: the
/// job list and the stop flag are guarded by `condition`.
final class ConnectionExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    /// Starts the thread, named `name` for debuggers and `top -H` (at most 15 bytes: Linux
    /// refuses a longer thread name).
    init(name: String) {
        let thread = Thread { [self] in
            // Set from the thread itself: on Linux a name given before start is not applied,
            // and the thread would keep the name of the one that started it.
            Thread.current.name = name
            serve()
        }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread exit once the queued jobs have run.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func serve() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }
}
