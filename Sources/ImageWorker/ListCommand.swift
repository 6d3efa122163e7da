import ArgumentParser
import ImageStore

/// `image-worker list`: every row of the queue.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List every queued, running, ready and failed image.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let queue = try await global.openQueue()
        let records = try await reportingErrors { try await queue.list() }
        if global.json {
            try Output.json(records)
        } else {
            Output.table(header: ImageRecord.tableHeader, rows: records.map(\.tableRow))
        }
    }
}
