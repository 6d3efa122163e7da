import Foundation
import TestSupport
import Testing

@testable import ImageStore

/// Rows and settings written by hand (with the sqlite3 CLI or psql), a stale builder
/// publishing, a lease changed at runtime: the queue keeps claiming, and fenced work stays
/// fenced. On both backends (``QueueBackend``).
@Suite final class ImageQueueHardeningTests: Sendable {
    let directory: URL
    let start = 1_800_000_000_000

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("queue-hardening-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    @Test("a row whose claim the schema refuses is failed with the reason; the rows behind it are claimed", arguments: QueueBackend.allCases)
    func unclaimableHeadIsFailed(_ backend: QueueBackend) async throws {
        let database = try await backend.makeDatabase(in: directory)
        let queue = try await database.open()
        try await database.sql(
            """
            INSERT INTO images (name, priority, attempts) VALUES ('at-attempts-bound', 9, 1000000);
            INSERT INTO images (name, priority, lease_token) VALUES ('at-token-bound', 8, 1000000000000000000);
            INSERT INTO images (name) VALUES ('normal');
            """)
        let claim = try #require(try await queue.claim(workerID: "t:1:1", now: start))
        #expect(claim.name == "normal")
        let rows = try await queue.list()
        #expect(rows.map(\.status) == ["failed", "failed", "pulling"])
        #expect(rows[0].error?.contains("attempts_in_range") == true, "\(rows[0].error ?? "")")
        #expect(rows[1].error?.contains("lease_token_in_range") == true, "\(rows[1].error ?? "")")
        #expect(rows[0].errorKind == "permanent" && rows[0].workerID == nil && rows[0].leaseExpiresAt == nil)
    }

    @Test("missing settings rows fall back to their defaults: claims get a 60 s lease and stop at 4 in flight", arguments: QueueBackend.allCases)
    func missingSettings(_ backend: QueueBackend) async throws {
        let database = try await backend.makeDatabase(in: directory)
        let queue = try await database.open()
        try await database.sql("DELETE FROM settings")
        for index in 0..<6 { try await queue.enqueue(name: "img-\(index)", now: start) }
        var claims: [Claim] = []
        while let claim = try await queue.claim(workerID: "t:1:1", now: start) { claims.append(claim) }
        #expect(claims.count == SettingKey.maxInFlight.defaultValue)
        #expect(try await queue.record(id: claims[0].id).leaseExpiresAt == start + 60_000)
        #expect(try await queue.setting(.maxAttempts) == 5)
        #expect(try await queue.heartbeat(claims[0], now: start + 1) == 60_000)
        let outcome = try await queue.requeue(claims[0], error: "503", retryAfter: 1, now: start + 1)
        #expect(outcome == .requeued(notBefore: start + 2))
    }

    @Test("a heartbeat applies the lease_ms of now and reports it", arguments: QueueBackend.allCases)
    func heartbeatReadsLease(_ backend: QueueBackend) async throws {
        let database = try await backend.makeDatabase(in: directory)
        let queue = try await database.open()
        try await queue.enqueue(name: "img", now: start)
        let claim = try #require(try await queue.claim(workerID: "t:1:1", now: start))
        try await database.sql("UPDATE settings SET value = 1500 WHERE key = 'lease_ms'")
        #expect(try await queue.heartbeat(claim, now: start + 10) == 1_500)
        #expect(try await queue.record(id: claim.id).leaseExpiresAt == start + 1_510)
    }

    @Test("settings out of the schema's range are refused by the API and by SQL", arguments: QueueBackend.allCases)
    func settingRanges(_ backend: QueueBackend) async throws {
        let database = try await backend.makeDatabase(in: directory)
        let queue = try await database.open()
        await #expect(throws: QueueError.settingOutOfRange(key: "max_in_flight", value: -1, range: 0...1_000_000)) {
            try await queue.setSetting(.maxInFlight, to: -1)
        }
        for bad in ["'abc'", "50", "604800001", "1.5"] {
            await #expect(throws: (any Error).self) {
                try await database.sql("UPDATE settings SET value = \(bad) WHERE key = 'lease_ms'")
            }
        }
        #expect(try await queue.setting(.leaseMilliseconds) == 60_000)
    }

    @Test("a builder whose lease was taken over cannot rename its disk over the published one", arguments: QueueBackend.allCases)
    func fencedPublish(_ backend: QueueBackend) async throws {
        let database = try await backend.makeDatabase(in: directory)
        let queue = try await database.open()
        try await queue.setSetting(.leaseMilliseconds, to: 1_000)
        try await queue.enqueue(name: "img", now: start)
        let finalPath = directory.appendingPathComponent("disks/img.ext4")
        let digest = "sha256:" + String(repeating: "a", count: 64)

        let stale = try #require(try await queue.claim(workerID: "old:1:1", now: start))
        guard case .acquired(let artifactID) = try await queue.acquireBuild(
            stale, manifestDigest: digest, format: "ext4", path: finalPath.path, now: start)
        else { Issue.record("the first claim converts"); return }
        _ = try await queue.recoverInterruptedBuilds(now: start + 1_001)
        let fresh = try #require(try await queue.claim(workerID: "new:1:1", now: start + 1_002))
        #expect(
            try await queue.acquireBuild(fresh, manifestDigest: digest, format: "ext4", path: finalPath.path, now: start + 1_002)
                == .acquired(artifactID: artifactID))

        let freshFile = try write("fresh", to: "fresh.ext4")
        try await queue.publish(
            fresh, artifactID: artifactID, sizeBytes: 5, configJSON: "{}", now: start + 1_003,
            moveIntoPlace: { try DiskFile.moveIntoPlace(freshFile, to: finalPath) })

        let staleFile = try write("stale", to: "stale.ext4")
        await #expect(throws: QueueError.leaseLost(id: stale.id, token: stale.token)) {
            try await queue.publish(
                stale, artifactID: artifactID, sizeBytes: 5, configJSON: "{}", now: start + 1_004,
                moveIntoPlace: { try DiskFile.moveIntoPlace(staleFile, to: finalPath) })
        }
        #expect(try String(contentsOf: finalPath, encoding: .utf8) == "fresh")
        #expect(FileManager.default.fileExists(atPath: staleFile.path), "the stale file was never renamed")
        #expect(try await queue.record(id: fresh.id).status == "ready")
    }

    @Test("a failed rename publishes nothing", arguments: QueueBackend.allCases)
    func renameFailureRollsBack(_ backend: QueueBackend) async throws {
        let database = try await backend.makeDatabase(in: directory)
        let queue = try await database.open()
        try await queue.enqueue(name: "img", now: start)
        let claim = try #require(try await queue.claim(workerID: "t:1:1", now: start))
        let finalPath = directory.appendingPathComponent("disks/img.ext4")
        guard case .acquired(let artifactID) = try await queue.acquireBuild(
            claim, manifestDigest: "sha256:" + String(repeating: "b", count: 64), format: "ext4",
            path: finalPath.path, now: start)
        else { Issue.record("the claim converts"); return }
        let missing = directory.appendingPathComponent("never-written.ext4")
        await #expect(throws: DiskError.self) {
            try await queue.publish(
                claim, artifactID: artifactID, sizeBytes: 1, configJSON: "{}", now: start + 1,
                moveIntoPlace: { try DiskFile.moveIntoPlace(missing, to: finalPath) })
        }
        #expect(try await queue.record(id: claim.id).status == "pulling")
        #expect(try await queue.artifacts().map(\.state) == ["building"])
    }

    @Test("an in-flight row whose lease ends later than any lease_ms allows is recovered", arguments: QueueBackend.allCases)
    func farFutureLeaseRecovered(_ backend: QueueBackend) async throws {
        let database = try await backend.makeDatabase(in: directory)
        let queue = try await database.open()
        try await database.sql(
            """
            INSERT INTO images (name, status, worker_id, lease_expires_at, attempts)
            VALUES ('ghost', 'converting', 'ghost:1:1', 9000000000000000000, 1)
            """)
        let rows = try await queue.recoverInterruptedBuilds(now: start)
        #expect(rows.map(\.outcome) == [.requeued])
        #expect(rows.first?.message == "worker ghost:1:1 holds no valid lease during converting (attempt 1 of 5)")
        #expect(try await queue.list().map(\.status) == ["pending"])
    }

    private func write(_ text: String, to name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }
}

@Suite struct StoreErrorKindTests {
    @Test(
        "a full disk and I/O errors are transient, constraint failures permanent",
        arguments: [(13, true), (13 | (1 << 8), true), (10, true), (10 | (4 << 8), true), (5, true), (19, false), (275, false)])
    func kinds(code: Int, transient: Bool) {
        let error = StoreError.statement(name: "commit", code: code, message: "database or disk is full")
        #expect(error.kind.isTransient == transient)
    }
}
