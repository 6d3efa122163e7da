import ArgumentParser
import ImageStore

/// `image-worker enqueue REF`: adds a pending row.
struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Ask for an image as a disk: a pending row, unless one of that name and format is already queued, building or ready (a failed one is retried).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Image reference, e.g. alpine:3.18 or localhost:5000/app@sha256:….")
    var reference: String

    @Option(help: "Disk format: \(DiskFormat.spelledOut).")
    var format = "ext4"

    @Option(
        name: .customLong("target-host"),
        help: "Pin the row to the host of this --host-id: only its workers build it (default: any host).")
    var targetHost: String?

    @Option(help: "Larger runs first; ties run in enqueue order.")
    var priority = 0

    func validate() throws {
        if let targetHost {
            do { try ImageQueue.validateTargetHost(targetHost) } catch { throw ValidationError("--target-host: \(error)") }
        }
        guard ImageQueue.formats.contains(format) else {
            throw ValidationError("format \(format): unsupported; use \(DiskFormat.spelledOut)")
        }
        guard !reference.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("reference is empty; pass an image reference such as alpine:3.18")
        }
    }

    func run() async throws {
        let manager = try await global.openManager()
        let (image, outcome) = try await reportingErrors {
            try await manager.createImageReportingOutcome(
                reference, format: format, priority: priority, targetHost: targetHost)
        }
        if global.json {
            try Output.json(image)
        } else {
            Output.line(Self.summary(image, outcome))
        }
    }

    /// `enqueued NAME as 7 (ext4, priority 0), queue position 2`, or what was there already.
    static func summary(_ image: Image, _ outcome: ImageQueue.CreateOutcome) -> String {
        SafeText.escaping(rawSummary(image, outcome))
    }

    private static func rawSummary(_ image: Image, _ outcome: ImageQueue.CreateOutcome) -> String {
        let position = image.queuePosition.map { ", queue position \($0)" } ?? ""
        switch outcome {
        case .enqueued:
            return "enqueued \(image.name) as \(image.id) (\(image.format), priority \(image.priority))\(position)"
        case .retried:
            return "retried failed \(image.name) as \(image.id) (\(image.format))\(position)"
        case .existing:
            return "already \(image.status.rawValue): \(image.name) as \(image.id) (\(image.format))\(position)"
        }
    }
}
