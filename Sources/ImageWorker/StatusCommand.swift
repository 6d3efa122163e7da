import ArgumentParser
import ImageStore

/// `image-worker status REF`: the rows a name, normalized name or digest matches.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show an image by name, normalized name or digest (exit 1 when unknown).",
        discussion: "--json prints the newest matching row as one object.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Name as enqueued, normalized name, or digest.")
    var reference: String

    func run() async throws {
        let queue = try await global.openQueue()
        let records = try await reportingErrors { try await queue.status(reference) }
        if global.json {
            if let newest = records.last { try Output.json(newest) }
            return
        }
        var rows: [[String]] = []
        for record in records {
            let position = try await reportingErrors { try await queue.queuePosition(id: record.id) }
            rows.append(record.tableRow + [position.map(String.init) ?? ""])
        }
        Output.table(header: ImageRecord.tableHeader + ["QUEUE_POSITION"], rows: rows)
    }
}
