import ArgumentParser
import ImageStore

/// `image-worker status REF`: the images a name, normalized name or digest matches (the seed's
/// `GetImage`), every field.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show an image by name, normalized name or digest (exit 1 when unknown).",
        discussion: """
            Prints every image_status column of each matching row (one row per format, a tag and \
            a digest are separate rows), oldest first. --json prints them as one array of objects.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Name as enqueued, normalized name, digest or manifest digest.")
    var reference: String

    func run() async throws {
        let manager = try await global.openManager()
        let images = try await reportingErrors { try await manager.images(matching: reference) }
        if global.json {
            try Output.json(images)
        } else {
            Output.line(images.map { Output.fields($0.fields) }.joined(separator: "\n\n"))
        }
    }
}
