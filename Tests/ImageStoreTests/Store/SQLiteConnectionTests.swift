import Foundation
import Synchronization
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

    @Test("an uncontended transaction runs on the caller's thread, not the connection thread")
    func inlineWhenFree() async throws {
        let connection = try await open()
        let thread = try await connection.write { db in
            try db.execute(Statements.insertImage, [.text("a"), .text("ext4"), .int(0), .int(1), .null])
            return Thread.current.name ?? ""
        }
        #expect(thread != SQLiteConnection.threadName)
        #expect(try await ImageQueue(database: connection).list().map(\.name) == ["a"])
    }

    @Test("a write while another connection holds the write lock waits for it (on the connection thread), then commits")
    func waitsWhenBusy() async throws {
        let holder = try await open()
        let connection = try await open()
        let holding = Mutex(false)
        let held = Task {
            try await holder.write { db in
                try db.execute(Statements.insertImage, [.text("first"), .text("ext4"), .int(0), .int(1), .null])
                holding.withLock { $0 = true }
                // Keeps the write lock while the other connection asks for it: its attempt on the
                // caller's thread finds the lock taken, and it must wait instead of failing.
                Thread.sleep(forTimeInterval: 1)
            }
        }
        while !holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        try await connection.write { db in
            try db.execute(Statements.insertImage, [.text("second"), .text("ext4"), .int(0), .int(1), .null])
        }
        try await held.value
        #expect(try await ImageQueue(database: connection).list().map(\.name) == ["first", "second"])
    }

    @Test("transactions of many tasks on one connection all commit, one at a time")
    func concurrentTasksShareTheHandle() async throws {
        let connection = try await open()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<64 {
                group.addTask {
                    try await connection.write { db in
                        try db.execute(
                            Statements.insertImage, [.text("image-\(index)"), .text("ext4"), .int(0), .int(1), .null])
                    }
                    _ = try await connection.read { db in try db.query(Statements.countByStatus) }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await ImageQueue(database: connection).list().count == 64)
    }

    @Test("SQLITE_BUSY past the retries is transient")
    func busyIsTransient() {
        #expect(
            StoreError.busy(name: "beginImmediate", code: 5, message: "database is locked", attempts: 8).kind
                .isTransient)
        #expect(StoreError.statement(name: "claimNext", code: 517, message: "busy").kind.isTransient)
    }
}
