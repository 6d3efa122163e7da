import ArgumentParser
import Foundation
import ImageStore

extension GlobalOptions {
    /// Opens the queue database (creating its directory), applying pending migrations first.
    /// Every command that touches the database starts here.
    func openQueue() async throws -> ImageQueue {
        try await reportingErrors {
            try createDatabaseDirectory()
            return try await ImageQueue.open(path: databasePath, host: resolvedHostID)
        }
    }

    /// Creates the database's directory; when that is the data directory, it is made private
    /// (0700) at once, before any command writes below it. Nothing for a PostgreSQL URL.
    func createDatabaseDirectory() throws {
        guard case .sqlite = DatabaseLocation(databasePath) else { return }
        let directory = URL(fileURLWithPath: databasePath).deletingLastPathComponent()
        if directory.standardizedFileURL.path == layout.root.path {
            try layout.prepare()
        } else {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
    }
}
