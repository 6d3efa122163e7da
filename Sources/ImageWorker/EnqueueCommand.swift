import ArgumentParser
import ImageStore

/// `image-worker enqueue REF`: adds a pending row.
struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue", abstract: "Queue an image reference for conversion.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Image reference, e.g. alpine:3.18 or localhost:5000/app@sha256:….")
    var reference: String

    @Option(help: "Disk format: ext4, erofs or cpio.")
    var format = "ext4"

    @Option(help: "Larger runs first; ties run in enqueue order.")
    var priority = 0

    func validate() throws {
        guard ImageQueue.formats.contains(format) else {
            throw ValidationError("format \(format): unsupported; use ext4, erofs or cpio")
        }
        guard !reference.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("reference is empty; pass an image reference such as alpine:3.18")
        }
    }

    func run() async throws {
        // Refuse a name that can never resolve now, instead of a failed row later.
        _ = try await reportingErrors { try ImageReference(parsing: reference) }
        let queue = try await global.openQueue()
        let record = try await reportingErrors {
            let id = try await queue.enqueue(name: reference, format: format, priority: priority)
            return try await queue.status(reference).first { $0.id == id }
        }
        guard let record else { throw ExitCode(1) }
        if global.json {
            try Output.json(record)
        } else {
            Output.line("enqueued \(record.name) as \(record.id) (\(record.format), priority \(record.priority))")
        }
    }
}
