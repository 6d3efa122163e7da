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

/// Runs `body`; a failure becomes one line on stderr and exit code 75 (transient) or 1.
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        let text = (error as? any ClassifiedError)?.description ?? "\(error)"
        FileHandle.standardError.write(Data("image-worker: \(text)\n".utf8))
        throw ExitCode(ErrorKind.of(error).isTransient ? 75 : 1)
    }
}
