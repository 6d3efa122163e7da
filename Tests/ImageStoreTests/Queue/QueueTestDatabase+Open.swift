import TestSupport

@testable import ImageStore

extension QueueTestDatabase {
    /// Opens (migrating) a queue on the database: another connection each call.
    func open() async throws -> ImageQueue {
        try await ImageQueue.open(path: location)
    }
}
