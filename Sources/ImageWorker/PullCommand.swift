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

    @Option(help: "Disk format: \(DiskFormat.spelledOut).")
    var format = "ext4"

    @Option(
        name: .customLong("target-host"),
        help: "Pin the row to the host of this --host-id: only its workers build it (default: any host).")
    var targetHost: String?

    @Option(help: "Larger runs first.")
    var priority = 0

    @Flag(help: "Follow the row until it is ready or failed.")
    var wait = false

    @Option(help: "With --wait: give up after this many seconds (0: never).")
    var timeout = 0

    func validate() throws {
        if let targetHost {
            do { try ImageQueue.validateTargetHost(targetHost) } catch { throw ValidationError("--target-host: \(error)") }
        }
        guard ImageQueue.formats.contains(format) else { throw ValidationError("format \(format): use \(DiskFormat.spelledOut)") }
        guard (0...31_536_000).contains(timeout) else { throw ValidationError("--timeout must be 0...31536000 seconds") }
    }

    func run() async throws {
        let manager = try await global.openManager()
        let start = ContinuousClock.now
        let (created, outcome) = try await reportingErrors {
            try await manager.createImageReportingOutcome(
                reference, format: format, priority: priority, targetHost: targetHost)
        }
        guard wait else {
            if global.json { try Output.json(created) } else { Output.line(EnqueueCommand.summary(created, outcome)) }
            return
        }
        let follower = ImageFollower(terminal: isatty(STDERR_FILENO) == 1 && !global.json)
        let deadline = timeout > 0 ? start + .seconds(timeout) : nil
        while true {
            let image = try await reportingErrors { try await manager.getImage(id: created.id) }
            follower.show(image)
            switch image.status {
            case .ready:
                follower.finish()
                if global.json {
                    try Output.json(image)
                } else {
                    Output.line(Self.readyLine(image, took: ContinuousClock.now - start))
                }
                return
            case .failed:
                follower.finish()
                if global.json { try Output.json(image) }
                FileHandle.standardError.write(Data("image-worker: \(SafeText.escaping(image.error ?? "failed"))\n".utf8))
                throw ExitCode(1)
            default:
                if let deadline, ContinuousClock.now > deadline {
                    follower.finish()
                    FileHandle.standardError.write(
                        Data("image-worker: \(reference): still \(image.status.rawValue) after \(timeout) s\n".utf8))
                    throw ExitCode(75)
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// `ready NAME DIGEST: PATH, 12.3 MiB, 2.41 s`: what the caller came for.
    static func readyLine(_ image: Image, took: Duration) -> String {
        let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
        let size = image.sizeBytes.map(ImageTable.size) ?? "size unknown"
        let text = "ready \(image.name) \(image.digest ?? ""): \(image.diskPath ?? "no disk path"), \(size), "
        return SafeText.escaping(text) + String(format: "%.2f s", seconds)
    }
}

/// Shows a followed image on stderr: a redrawn line on a terminal, a line per change otherwise.
/// Pulling and converting share one bar: layer bytes downloaded, then layer bytes applied to
/// the disk, of the same total; when every layer is applied the disk is being written.
final class ImageFollower: Sendable {
    private let terminal: Bool
    private let last = Mutex<String>("")

    init(terminal: Bool) { self.terminal = terminal }

    func show(_ image: Image) {
        let text = Self.describe(image, bar: terminal)
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

    /// `NAME: converting [#########.....] 3.1/4.2 MiB applied`; without `bar`, whole MiB only,
    /// so a log gets one line per MiB at most.
    static func describe(_ image: Image, bar: Bool) -> String {
        var text = "\(SafeText.escaping(image.name)): \(image.status.rawValue)"
        if let position = image.queuePosition { text += ", queue position \(position)" }
        if image.status.isInFlight, let total = image.bytesTotal, total > 0 {
            let done = min(max(0, image.bytesDone), total)
            if image.status == .converting && done == total {
                text += ", layers applied, writing the \(image.format) disk"
            } else {
                let verb = image.status == .pulling ? "downloaded" : "applied"
                if bar {
                    let filled = Int(30 * Double(done) / Double(total))
                    text += " [" + String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled) + "]"
                    text += String(format: " %.1f/%.1f MiB ", Double(done) / 1_048_576, Double(total) / 1_048_576) + verb
                } else {
                    text += " \(done / 1_048_576)/\(total / 1_048_576) MiB \(verb)"
                }
            }
        }
        if image.attempts > 1 { text += ", attempt \(image.attempts)" }
        return text
    }
}
