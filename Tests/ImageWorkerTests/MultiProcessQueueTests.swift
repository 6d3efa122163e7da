import Foundation
import ImageStore
import TestSupport
import Testing

/// Real `image-worker` processes against one database: a SQLite file, or a PostgreSQL
/// database (``QueueBackend``), rows inserted by the sqlite3 CLI or psql.
@Suite final class MultiProcessQueueTests: Sendable {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("multi-process-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    @Test("4 worker processes claim every row exactly once while another client inserts more", arguments: QueueBackend.allCases)
    func fourProcesses(_ backend: QueueBackend) async throws {
        let testDatabase = try await backend.makeDatabase(in: directory)
        let database = testDatabase.location
        let batches = 10
        let perBatch = 20
        let total = batches * perBatch
        try await Child.run(Child.imageWorker, ["migrate", "--db", database], in: directory)
        let workers = try (0..<4).map { index in
            try Child(
                Child.imageWorker,
                ["queue-drill", "--db", database, "--worker-id", "test:\(index):1", "--expect", String(total)],
                in: directory)
        }
        for batch in 0..<batches {
            let values = (0..<perBatch).map { "('insert-\(batch)-\($0)')" }.joined(separator: ", ")
            _ = try await testDatabase.sql("INSERT INTO images(name) VALUES \(values)")
        }
        for worker in workers {
            let status = try await worker.wait()
            #expect(status == 0, "worker stderr: \(worker.stderr)")
            #expect(!worker.stderr.lowercased().contains("busy"))
            #expect(!worker.stderr.lowercased().contains("locked"))
        }
        let claimed = workers.flatMap { worker in
            worker.stdout.split(separator: "\n").filter { $0.hasPrefix("claimed ") }
                .compactMap { Int($0.split(separator: " ")[1]) }
        }
        #expect(claimed.count == total)
        #expect(Set(claimed) == Set(1...total))
        #expect(try await testDatabase.sql("SELECT count(*) FROM images WHERE status = 'ready'") == String(total))
    }

    @Test("a SIGKILLed worker's row returns to pending via recover, and its token is refused", arguments: QueueBackend.allCases)
    func killedWorkerRecovered(_ backend: QueueBackend) async throws {
        let testDatabase = try await backend.makeDatabase(in: directory)
        let database = testDatabase.location
        try await Child.run(Child.imageWorker, ["enqueue", "--db", database, "alpine:3.18"], in: directory)
        _ = try await testDatabase.sql("UPDATE settings SET value = 200 WHERE key = 'lease_ms'")
        let worker = try Child(
            Child.imageWorker, ["queue-drill", "--db", database, "--worker-id", "doomed:1:1", "--hang"], in: directory)
        try await Child.waitUntil("the claim line") { worker.stdout.hasPrefix("claimed ") }
        let fields = worker.stdout.split(whereSeparator: \.isWhitespace)
        let id = try #require(Int(fields[1]))
        let token = try #require(Int(fields[2]))
        kill(worker.process.processIdentifier, SIGKILL)
        try await worker.wait()
        #expect(try await testDatabase.sql("SELECT status FROM images WHERE id = \(id)") == "pulling")

        var recovered = ""
        try await Child.waitUntil("the lease to expire and recover to requeue the row") {
            recovered = try await Child.run(Child.imageWorker, ["recover", "--db", database, "--json"], in: directory)
            return recovered.contains("requeued")
        }
        #expect(recovered.contains("worker doomed:1:1 stopped heartbeating during pulling (attempt 1 of 5)"))
        #expect(try await testDatabase.sql("SELECT status FROM images WHERE id = \(id)") == "pending")

        let queue = try await ImageQueue.open(path: database)
        let dead = Claim(id: id, name: "alpine:3.18", format: "ext4", token: token, attempts: 1, workerID: "doomed:1:1")
        await #expect(throws: QueueError.leaseLost(id: id, token: token)) {
            try await queue.complete(dead)
        }
        let fresh = try #require(try await queue.claim(workerID: "alive:1:1"))
        #expect(fresh.id == id && fresh.token == token + 1)
        await #expect(throws: QueueError.leaseLost(id: id, token: token)) {
            try await queue.heartbeat(dead)
        }
    }
}
