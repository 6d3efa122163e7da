import ArgumentParser
import Foundation
import ImageStore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `image-worker pull REF --wait`: enqueue, then follow the row to ready or failed.
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Enqueue an image and (with --wait) follow it until ready or failed.",
        discussion: "A worker process (image-worker worker) does the build. Exit 0 ready, 1 failed, 75 timed out.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Image reference, e.g. alpine:3.20.")
    var reference: String

    @Option(help: "Disk format: ext4, erofs or cpio.")
    var format = "ext4"

    @Option(help: "Larger runs first.")
    var priority = 0

    @Flag(help: "Follow the row until it is ready or failed.")
    var wait = false

    @Option(help: "With --wait: give up after this many seconds (0: never).")
    var timeout = 0

    func validate() throws {
        guard ImageQueue.formats.contains(format) else { throw ValidationError("format \(format): use ext4, erofs or cpio") }
        guard (0...31_536_000).contains(timeout) else { throw ValidationError("--timeout must be 0...31536000 seconds") }
    }

    func run() async throws {
        // Refuse a name that can never resolve now, instead of a failed row later.
        _ = try await reportingErrors { try ImageReference(parsing: reference) }
        let queue = try await global.openQueue()
        let id = try await reportingErrors { try await queue.enqueue(name: reference, format: format, priority: priority) }
        guard wait else {
            Output.line("enqueued \(reference) as \(id)")
            return
        }
        let follower = RowFollower(terminal: isatty(STDERR_FILENO) == 1 && !global.json)
        let deadline = timeout > 0 ? ContinuousClock.now + .seconds(timeout) : nil
        while true {
            let record = try await reportingErrors { try await queue.record(id: id) }
            let position = try await reportingErrors { try await queue.queuePosition(id: id) }
            follower.show(record, position: position)
            switch record.status {
            case "ready":
                follower.finish()
                if global.json { try Output.json(record) } else { Output.line("ready \(record.name) \(record.digest ?? "")") }
                return
            case "failed":
                follower.finish()
                if global.json { try Output.json(record) }
                FileHandle.standardError.write(Data("image-worker: \(SafeText.escaping(record.error ?? "failed"))\n".utf8))
                throw ExitCode(1)
            default:
                if let deadline, ContinuousClock.now > deadline {
                    follower.finish()
                    FileHandle.standardError.write(Data("image-worker: \(reference): still \(record.status) after \(timeout) s\n".utf8))
                    throw ExitCode(75)
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}

/// Shows a followed row on stderr: a redrawn line on a terminal, a line per change otherwise.
final class RowFollower: Sendable {
    private let terminal: Bool
    private let last = Mutex<String>("")

    init(terminal: Bool) { self.terminal = terminal }

    func show(_ record: ImageRecord, position: Int?) {
        var text = "\(record.name): \(record.status)"
        if let position { text += ", queue position \(position)" }
        if let total = record.bytesTotal, total > 0, record.status == "pulling" {
            if terminal {
                let filled = Int(30 * Double(record.bytesDone) / Double(total))
                text += " [" + String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled) + "]"
            }
            text += " \(record.bytesDone / 1_048_576)/\(total / 1_048_576) MiB"
        }
        if record.attempts > 1 { text += ", attempt \(record.attempts)" }
        let changed = last.withLock { previous in
            defer { previous = text }
            return previous != text
        }
        guard changed else { return }
        let line = terminal ? "\r\u{1B}[K" + text : text + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
