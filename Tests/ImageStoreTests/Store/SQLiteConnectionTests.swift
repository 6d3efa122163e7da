import Foundation
import Testing

@testable import ImageStore

@Suite final class SQLiteConnectionTests: Sendable {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("connection-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func open() async throws -> SQLiteConnection {
        let connection = try await SQLiteConnection.open(path: directory.appendingPathComponent("c.db").path)
        try await Migrator().migrate(connection)
        return connection
    }

    @Test("the connection runs WAL with foreign keys on")
    func pragmas() async throws {
        let connection = try await open()
        let mode = try await connection.read { db in
            try db.query(SQLStatement(name: "test-journal", sql: "PRAGMA journal_mode")).first?.text("journal_mode")
        }
        let keys = try await connection.read { db in
            try db.query(SQLStatement(name: "test-fk", sql: "PRAGMA foreign_keys")).first?.int("foreign_keys")
        }
        #expect(mode == "wal" && keys == 1)
    }

    @Test("values are bound, never parsed as SQL")
    func boundValues() async throws {
        let queue = ImageQueue(database: try await open())
        let hostile = "x'); DROP TABLE images; --"
        try await queue.enqueue(name: hostile, now: 1)
        #expect(try await queue.list().map(\.name) == [hostile])
    }

    @Test("a write transaction rolls back when its body throws")
    func rollback() async throws {
        let connection = try await open()
        await #expect(throws: QueueError.notFound(reference: "boom")) {
            try await connection.write { db in
                try db.execute(Statements.insertImage, [.text("kept?"), .text("ext4"), .int(0), .int(1)])
                throw QueueError.notFound(reference: "boom")
            }
        }
        #expect(try await ImageQueue(database: connection).list().isEmpty)
    }

    @Test("a failing statement reports its name and SQLite's code")
    func statementError() async throws {
        let connection = try await open()
        await #expect(throws: StoreError.self) {
            try await connection.write { db in
                try db.execute(Statements.insertImage, [.text("x"), .text("zip"), .int(0), .int(1)])
            }
        }
        do {
            try await connection.write { db in
                try db.execute(Statements.insertImage, [.text("x"), .text("zip"), .int(0), .int(1)])
            }
        } catch let error as StoreError {
            guard case .statement(let name, let code, let message) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(name == "insertImage" && code == 275 && message.contains("CHECK constraint failed"))
            #expect(error.kind == .permanent)
        }
    }

    @Test("a database that cannot be opened is a permanent open error naming the path")
    func openError() async throws {
        let path = directory.appendingPathComponent("missing/dir/c.db").path
        await #expect(throws: StoreError.open(path: path, code: 14, message: "unable to open database file")) {
            _ = try await ImageQueue.open(path: path)
        }
    }

    @Test("SQLITE_BUSY past the retries is transient")
    func busyIsTransient() {
        #expect(
            StoreError.busy(name: "beginImmediate", code: 5, message: "database is locked", attempts: 8).kind
                .isTransient)
        #expect(StoreError.statement(name: "claimNext", code: 517, message: "busy").kind.isTransient)
    }
}
