import ArgumentParser
import Foundation
import ImageStore

/// `image-worker queue-drill` (hidden): a bare queue client for `bench-queue` and the
/// multi-process tests. Claims rows and completes them at once, printing `claimed <id> <token>`
/// per claim and `done <claims> <first-claim-ms> <last-claim-ms>` at the end. It exits (75)
/// once the process that started it is gone, so a test run that crashed leaves no drill polling.
struct QueueDrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue-drill", abstract: "Claim and complete rows (benchmarks and tests).",
        shouldDisplay: false)

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("worker-id"), help: "Worker id written to claimed rows.")
    var workerID = "drill:\(ProcessInfo.processInfo.processIdentifier):1"

    @Option(help: "Keep polling until this many rows are ready (default: stop when nothing is claimable).")
    var expect: Int?

    @Flag(help: "After the first claim, print it and hang without heartbeating (crash tests).")
    var hang = false

    func run() async throws {
        let queue = try await global.openQueue()
        try await reportingErrors { try await drill(queue) }
    }

    private func drill(_ queue: ImageQueue) async throws {
        let parent = getppid()
        func orphaned() -> Bool { getppid() != parent }
        var lines: [String] = []
        var first: Int?
        var last = 0
        while true {
            let now = ImageQueue.nowMilliseconds()
            if let claim = try await queue.claim(workerID: workerID, now: now) {
                first = first ?? now
                if hang {
                    Output.line("claimed \(claim.id) \(claim.token)")
                    while !orphaned() { try await Task.sleep(for: .seconds(1)) }
                    throw ExitCode(75)
                }
                try await queue.complete(claim, now: ImageQueue.nowMilliseconds())
                last = ImageQueue.nowMilliseconds()
                lines.append("claimed \(claim.id) \(claim.token)")
                continue
            }
            guard let expect, try await queue.count(status: "ready") < expect else { break }
            if orphaned() { throw ExitCode(75) }
            try await Task.sleep(for: .milliseconds(2))
        }
        lines.append("done \(lines.count) \(first ?? 0) \(last)")
        Output.line(lines.joined(separator: "\n"))
    }
}
