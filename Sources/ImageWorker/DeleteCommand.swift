import ArgumentParser
import ImageStore

/// `image-worker delete REF`: the Go original's `DeleteImage`, by name or digest.
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete the rows a name, normalized name or digest matches; remove disks no row shares.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var registry: RegistryOptions

    @Argument(help: "Name as enqueued, normalized name, or digest.")
    var reference: String

    func run() async throws {
        let manager = try await global.openManager(registry: registry)
        let rows = try await reportingErrors { try await manager.deleteImage(reference) }
        if global.json {
            try Output.json(["deleted_rows": rows])
        } else {
            Output.line("deleted \(rows) row\(rows == 1 ? "" : "s") for \(reference)")
        }
    }
}
