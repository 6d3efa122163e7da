import ArgumentParser
import ImageStore

/// `image-worker recover`: returns rows of dead workers to the queue.
struct RecoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Requeue rows whose worker stopped heartbeating (fail them at max_attempts); remove their scratch.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let manager = try await global.openManager()
        let rows = try await reportingErrors { try await manager.recoverInterruptedBuilds() }
        if global.json {
            try Output.json(rows)
        } else if rows.isEmpty {
            Output.line("no expired leases")
        } else {
            for row in rows { Output.line("\(row.id) \(row.name): \(row.outcome.rawValue): \(row.message)") }
        }
    }
}
