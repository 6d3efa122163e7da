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
        var removed = 0
        for directory in [root, root.appendingPathComponent("blobs")] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
                guard let range = name.range(of: ".tmp-") else { continue }
                let rest = name[range.upperBound...]
                guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0 else { continue }
                if kill(pid, 0) == -1 && errno == ESRCH,
                    (try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))) != nil
                {
                    removed += 1
                }
            }
        }
        return removed
    }
}
