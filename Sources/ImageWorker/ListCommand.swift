import ArgumentParser
import ImageStore

/// `image-worker list`: every image, the seed's `ListImages`.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List every queued, running, ready and failed image.",
        discussion: """
            Without --json: a table of at most 100 columns (name, format, status, queue position, \
            size, disk path relative to the data directory or the error). --json prints every \
            image_status column of every row as one array.
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let manager = try await global.openManager()
        let images = try await reportingErrors { try await manager.listImages() }
        if global.json {
            try Output.json(images)
        } else {
            Output.line(ImageTable(dataDirectory: global.layout.root).lines(images).joined(separator: "\n"))
        }
    }
}
