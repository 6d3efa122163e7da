import Foundation
import ImageStore
import Testing

/// Real `image-worker` processes against one SQLite file.
@Suite final class MultiProcessQueueTests: Sendable {
    let directory: URL
    let database: String

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("multi-process-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        database = directory.appendingPathComponent("queue.db").path
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func sqlite(_ sql: String) async throws -> String {
        try await Child.run("/usr/bin/sqlite3", ["-cmd", ".timeout 10000", database, sql], in: directory)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("4 worker processes claim every row exactly once while sqlite3 inserts more")
    func fourProcesses() async throws {
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
            _ = try await sqlite("INSERT INTO images(name) VALUES \(values)")
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
        #expect(try await sqlite("SELECT count(*) FROM images WHERE status = 'ready'") == String(total))
    }

    @Test("a SIGKILLed worker's row returns to pending via recover, and its token is refused")
    func killedWorkerRecovered() async throws {
        try await Child.run(Child.imageWorker, ["enqueue", "--db", database, "alpine:3.18"], in: directory)
        _ = try await sqlite("UPDATE settings SET value = 200 WHERE key = 'lease_ms'")
        let worker = try Child(
            Child.imageWorker, ["queue-drill", "--db", database, "--worker-id", "doomed:1:1", "--hang"], in: directory)
        try await Child.waitUntil("the claim line") { worker.stdout.hasPrefix("claimed ") }
        let fields = worker.stdout.split(whereSeparator: \.isWhitespace)
        let id = try #require(Int(fields[1]))
        let token = try #require(Int(fields[2]))
        kill(worker.process.processIdentifier, SIGKILL)
        try await worker.wait()
        #expect(try await sqlite("SELECT status FROM images WHERE id = \(id)") == "pulling")

        var recovered = ""
        try await Child.waitUntil("the lease to expire and recover to requeue the row") {
            recovered = try await Child.run(Child.imageWorker, ["recover", "--db", database, "--json"], in: directory)
            return recovered.contains("requeued")
        }
        #expect(recovered.contains("worker doomed:1:1 stopped heartbeating during pulling (attempt 1 of 5)"))
        #expect(try await sqlite("SELECT status FROM images WHERE id = \(id)") == "pending")

        let queue = try await ImageQueue.open(path: database)
        let dead = Claim(id: id, name: "alpine:3.18", format: "ext4", token: token, attempts: 1, workerID: "doomed:1:1")
        await #expect(throws: QueueError.leaseLost(id: id, token: token)) {
            try await queue.complete(dead, now: ImageQueue.nowMilliseconds())
        }
        let fresh = try #require(try await queue.claim(workerID: "alive:1:1", now: ImageQueue.nowMilliseconds()))
        #expect(fresh.id == id && fresh.token == token + 1)
        await #expect(throws: QueueError.leaseLost(id: id, token: token)) {
            try await queue.heartbeat(dead, now: ImageQueue.nowMilliseconds())
        }
    }
}
