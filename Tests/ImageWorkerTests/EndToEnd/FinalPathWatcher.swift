import Foundation
import ImageStore
import Synchronization

/// Watches the final path of every artifact row while builds run, every few milliseconds, and
/// remembers what it saw there. A correct worker publishes by rename, so anything seen under a
/// final path must be the finished file: the same inode, size and mtime it has at the end.
/// (The file appears just before its row turns ready: rename first, then the ready row.)
final class FinalPathWatcher: Sendable {
    /// One look at a final path that found a file.
    struct Sighting: Hashable, CustomStringConvertible {
        let path: String
        let inode: UInt64
        let size: Int64
        let modified: Int
        /// The artifact's state when the file was seen (`building` or `ready`).
        let state: String

        var description: String { "\(path) inode \(inode) size \(size) while \(state)" }
    }

    private let sightings = Mutex<Set<Sighting>>([])
    private let looks = Mutex(0)
    private let stopped = Mutex(false)
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Starts watching the artifacts of `database`.
    static func start(database: String) async throws -> FinalPathWatcher {
        let watcher = FinalPathWatcher()
        let queue = try await ImageQueue.open(path: database)
        let task = Task {
            while !watcher.stopped.withLock({ $0 }) {
                if let artifacts = try? await queue.artifacts() {
                    for artifact in artifacts {
                        guard let path = artifact.path else { continue }
                        watcher.looks.withLock { $0 += 1 }
                        if let seen = Self.look(at: path, state: artifact.state) {
                            _ = watcher.sightings.withLock { $0.insert(seen) }
                        }
                    }
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        watcher.task.withLock { $0 = task }
        return watcher
    }

    /// Stops watching.
    /// - Returns: how many times a path was looked at, and every sighting that is not the
    ///   finished file now under that path.
    func stop() async -> (looks: Int, partial: [Sighting]) {
        stopped.withLock { $0 = true }
        await task.withLock { $0 }?.value
        let partial = sightings.withLock { $0 }.filter { seen in
            guard let now = Self.look(at: seen.path, state: seen.state) else { return true }
            return now != seen
        }
        return (looks.withLock { $0 }, partial.sorted { $0.description < $1.description })
    }

    private static func look(at path: String, state: String) -> Sighting? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Sighting(
            path: path, inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec, state: state)
    }
}
