import ArgumentParser
import Foundation
import ImageStore

extension GlobalOptions {
    /// Opens the queue database (creating its directory), applying pending migrations first.
    /// Every command that touches the database starts here.
    func openQueue() async throws -> ImageQueue {
        try await reportingErrors {
            try createDatabaseDirectory()
            return try await ImageQueue.open(path: databasePath)
        }
    }

    func createDatabaseDirectory() throws {
        let directory = URL(fileURLWithPath: databasePath).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }
}
