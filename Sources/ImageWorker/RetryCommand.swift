import ArgumentParser
import ImageStore

/// `image-worker retry REF`: failed rows back to pending.
struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry", abstract: "Requeue a failed image with fresh attempts.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Name as enqueued, normalized name, or digest.")
    var reference: String

    func run() async throws {
        let queue = try await global.openQueue()
        let count = try await reportingErrors {
            try await queue.retry(reference, now: ImageQueue.nowMilliseconds())
        }
        if global.json {
            try Output.json(["requeued": count])
        } else {
            Output.line("requeued \(count) row\(count == 1 ? "" : "s") for \(reference)")
        }
    }
}
