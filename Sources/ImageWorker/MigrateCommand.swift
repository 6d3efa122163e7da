import ArgumentParser
import ImageStore

/// `image-worker migrate`: creates or upgrades the database schema.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Create or upgrade the database schema (every command also does this).")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let applied = try await reportingErrors {
            try global.createDatabaseDirectory()
            return try await ImageQueue.migrate(path: global.databasePath)
        }
        if global.json {
            try Output.json(MigrateResult(path: global.databasePath, applied: applied))
        } else if applied.isEmpty {
            Output.line("\(global.databasePath): schema up to date")
        } else {
            Output.line("\(global.databasePath): applied \(applied.joined(separator: ", "))")
        }
    }
}

/// `migrate --json` output.
private struct MigrateResult: Encodable {
    let path: String
    let applied: [String]
}
