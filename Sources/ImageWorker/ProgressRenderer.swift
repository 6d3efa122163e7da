import Foundation
import ImageStore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Renders pull progress on stderr: a bar redrawn in place on a TTY, otherwise one line per
/// state change.
final class ProgressRenderer: Sendable {
    private let enabled: Bool
    private let isTerminal: Bool
    private let drewBar = Atomic<Bool>(false)

    init(enabled: Bool) {
        self.enabled = enabled
        isTerminal = isatty(STDERR_FILENO) == 1
    }

    func handle(_ event: PullProgress) {
        guard enabled else { return }
        switch event {
        case .resolved(let digest):
            line("resolved \(digest)")
        case .layersPlanned(let count, let total, let present):
            line("layers: \(count), \(Self.mebibytes(total)) MiB, \(Self.mebibytes(present)) MiB already present")
        case .bytes(let done, let total):
            guard isTerminal, total > 0 else { return }
            let width = 30
            let filled = Int(Double(width) * Double(done) / Double(total))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            drewBar.store(true, ordering: .relaxed)
            write("\r[\(bar)] \(Self.mebibytes(done))/\(Self.mebibytes(total)) MiB")
        case .blobDone(let digest, let downloaded):
            guard !isTerminal else { return }
            line("\(downloaded ? "downloaded" : "present") \(digest)")
        }
    }

    /// Ends a bar line so later output starts on a fresh line.
    func finish() {
        if drewBar.exchange(false, ordering: .relaxed) { write("\n") }
    }

    private func line(_ text: String) {
        if drewBar.exchange(false, ordering: .relaxed) { write("\n") }
        write(text + "\n")
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    private static func mebibytes(_ bytes: Int64) -> String {
        String(format: "%.1f", Double(bytes) / 1_048_576)
    }
}
