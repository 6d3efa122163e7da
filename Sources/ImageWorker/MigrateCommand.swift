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
        // A PostgreSQL URL is shown with its password replaced by ***.
        let shown = DatabaseLocation(global.databasePath).description
        if global.json {
            try Output.json(MigrateResult(path: shown, applied: applied))
        } else if applied.isEmpty {
            Output.line("\(shown): schema up to date")
        } else {
            Output.line("\(shown): applied \(applied.joined(separator: ", "))")
        }
    }
}

/// `migrate --json` output.
private struct MigrateResult: Encodable {
    let path: String
    let applied: [String]
}
