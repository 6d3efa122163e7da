import Foundation
import TestSupport
import Testing

@testable import ImageStore

/// PostgreSQL's wake-up path: the schema's triggers NOTIFY and the queue's listener hears it.
/// Each wait has a long timeout: a missing NOTIFY makes the wait end false and the test fail,
/// a working one ends it at once.
@Suite struct QueueListenerTests {
    @Test("an INSERT by another client, a release and a settings change each wake a waiting listener")
    func wakes() async throws {
        let database = try await QueueBackend.postgres.makeDatabase(in: FileManager.default.temporaryDirectory)
        let queue = try await database.open()
        let listener = try #require(queue.listener)
        // Connects and LISTENs; nothing has happened yet.
        #expect(try await listener.wait(beyond: listener.generation, timeout: .milliseconds(1)) == false)

        var seen = listener.generation
        try await database.sql("INSERT INTO images (name) VALUES ('from-psql')")
        #expect(try await listener.wait(beyond: seen, timeout: .seconds(60)))
        #expect(listener.generation > seen)

        let claim = try #require(try await queue.claim(workerID: "t:1:1"))
        seen = listener.generation
        try await queue.release(claim)
        #expect(try await listener.wait(beyond: seen, timeout: .seconds(60)))

        seen = listener.generation
        try await queue.setSetting(.maxInFlight, to: 7)
        #expect(try await listener.wait(beyond: seen, timeout: .seconds(60)))
        // A generation already past `seen` answers without waiting.
        #expect(try await listener.wait(beyond: seen, timeout: .seconds(60)))
    }

    @Test("SQLite queues have no listener; their change counter is data_version")
    func sqliteHasNone() async throws {
        let directory = try TemporaryDirectory(prefix: "listener")
        defer { directory.remove() }
        let database = try await QueueBackend.sqlite.makeDatabase(in: directory.url)
        let queue = try await database.open()
        #expect(queue.listener == nil)
        let before = try await queue.dataVersion()
        try await database.sql("INSERT INTO images (name) VALUES ('from-sqlite3')")
        #expect(try await queue.dataVersion() != before)
    }
}
