import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Temp files of the content store: `.tmp-<pid>-<uuid>`, named after the writing process so a
/// download or index rewrite cut short by a crash can be cleaned up as soon as that process is
/// gone, without waiting for a gc grace period.
extension ContentStore {
    /// A fresh temp file name for this process.
    static func temporaryName() -> String {
        ".tmp-\(getpid())-\(UUID().uuidString.lowercased())"
    }

    /// Removes the temp files (in the layout root and `blobs/`) whose writing process no longer
    /// exists on this host. A reused pid only keeps a file until the next gc. Blocking.
    /// - Returns: how many were removed.
    @discardableResult
    public func removeTemporaryFilesOfDeadProcesses() -> Int {
        removeTemporaryFiles { name, _ in
            guard let range = name.range(of: ".tmp-") else { return false }
            let rest = name[range.upperBound...]
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0 else { return false }
            return kill(pid, 0) == -1 && errno == ESRCH
        }
    }

    /// Removes the temp files last modified before `cutoff`, whatever wrote them: a live
    /// download writes its file all the time, so its time stays within any sensible grace.
    /// Blocking.
    /// - Returns: how many were removed.
    @discardableResult
    public func removeTemporaryFiles(olderThan cutoff: Date) -> Int {
        removeTemporaryFiles { _, path in
            let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
            return (modified ?? .distantPast) < cutoff
        }
    }

    /// Removes the `.tmp-` files of the layout root and `blobs/` that `isStale(name, path)` picks.
    private func removeTemporaryFiles(where isStale: (String, String) -> Bool) -> Int {
        var removed = 0
        for directory in [root, root.appendingPathComponent("blobs")] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            where name.contains(".tmp-") {
                let path = directory.appendingPathComponent(name).path
                if isStale(name, path), (try? FileManager.default.removeItem(atPath: path)) != nil { removed += 1 }
            }
        }
        return removed
    }
}
