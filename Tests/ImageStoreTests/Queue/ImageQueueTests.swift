import Foundation
import TestSupport
import Testing

@testable import ImageStore

/// The queue's behaviour, on both backends (``QueueBackend``).
@Suite final class ImageQueueTests: Sendable {
    let directory: URL
    let start = 1_800_000_000_000

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("queue-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func makeQueue(_ backend: QueueBackend, maxInFlight: Int = 100) async throws -> ImageQueue {
        let queue = try await backend.makeDatabase(in: directory).open()
        try await queue.setSetting(.maxInFlight, to: maxInFlight)
        return queue
    }

    @Test("claims take higher priority first, then enqueue order", arguments: QueueBackend.allCases)
    func claimOrder(_ backend: QueueBackend) async throws {
        let queue = try await makeQueue(backend)
        for (name, priority) in [("a", 0), ("b", 5), ("c", 5), ("d", 0), ("e", -1)] {
            try await queue.enqueue(name: name, priority: priority, now: start)
        }
        var order: [String] = []
        while let claim = try await queue.claim(workerID: "t:1:1", now: start) { order.append(claim.name) }
        #expect(order == ["b", "c", "a", "d", "e"])
    }

    @Test("a claim sets the lease, token and attempt; the row says who holds it", arguments: QueueBackend.allCases)
    func claimSetsLease(_ backend: QueueBackend) async throws {
        let queue = try await makeQueue(backend)
        try await queue.enqueue(name: "alpine", format: "erofs", now: start)
        let claim = try #require(try await queue.claim(workerID: "host:1:1", now: start + 10))
        #expect(claim.token == 1 && claim.attempts == 1 && claim.format == "erofs")
        let record = try #require(try await queue.status("alpine").first)
        #expect(record.status == "pulling" && record.workerID == "host:1:1")
        #expect(record.leaseExpiresAt == start + 10 + 60_000 && record.startedAt == start + 10)
    }

    @Test("a requeued row is not claimed before next_attempt_at", arguments: QueueBackend.allCases)
    func nextAttemptRespected(_ backend: QueueBackend) async throws {
        let queue = try await makeQueue(backend)
        try await queue.enqueue(name: "flaky", now: start)
        let claim = try #require(try await queue.claim(workerID: "t:1:1", now: start))
        let outcome = try await queue.requeue(claim, error: "registry answered 503", retryAfter: 5_000, now: start)
        #expect(outcome == .requeued(notBefore: start + 5_000))
        #expect(try await queue.claim(workerID: "t:1:1", now: start + 4_999) == nil)
        let again = try #require(try await queue.claim(workerID: "t:1:1", now: start + 5_000))
        #expect(again.attempts == 2 && again.token == 2)
    }

    @Test("claims stop at max_in_flight rows pulling or converting", arguments: QueueBackend.allCases)
    func globalLimit(_ backend: QueueBackend) async throws {
        let queue = try await makeQueue(backend, maxInFlight: 2)
        for name in ["a", "b", "c"] { try await queue.enqueue(name: name, now: start) }
        let first = try #require(try await queue.claim(workerID: "p:1:1", now: start))
        let second = try #require(try await queue.claim(workerID: "p:2:1", now: start))
        try await queue.markConverting(second, now: start)
        #expect(try await queue.claim(workerID: "p:3:1", now: start) == nil)
        try await queue.complete(first, now: start)
        #expect(try await queue.claim(workerID: "p:3:1", now: start)?.name == "c")
    }

    @Test("an update with a stale lease token is refused after recovery and a new claim", arguments: QueueBackend.allCases)
    func fencing(_ backend: QueueBackend) async throws {
        let queue = try await makeQueue(backend)
        try await queue.setSetting(.leaseMilliseconds, to: 1_000)
        try await queue.enqueue(name: "zombie", now: start)
        let stale = try #require(try await queue.claim(workerID: "old:1:1", now: start))
        let recovered = try await queue.recoverInterruptedBuilds(now: start + 1_001)
        #expect(recovered.map(\.outcome) == [.requeued])
        await #expect(throws: QueueError.leaseLost(id: stale.id, token: stale.token)) {
            try await queue.heartbeat(stale, now: start + 1_002)
        }
        let fresh = try #require(try await queue.claim(workerID: "new:1:1", now: start + 1_003))
        #expect(fresh.token == stale.token + 1)
        await #expect(throws: QueueError.leaseLost(id: stale.id, token: stale.token)) {
            try await queue.complete(stale, digest: "sha256:bad", now: start + 1_004)
        }
        await #expect(throws: QueueError.leaseLost(id: stale.id, token: stale.token)) {
            try await queue.fail(stale, error: "late", kind: .permanent, now: start + 1_004)
        }
        try await queue.complete(fresh, digest: "sha256:good", now: start + 1_005)
        let record = try #require(try await queue.status("zombie").first)
        #expect(record.status == "ready" && record.digest == "sha256:good" && record.workerID == nil)
    }

    @Test("recovery leaves live leases alone and fails a row at max_attempts, naming the reason", arguments: QueueBackend.allCases)
    func recoveryFailsAtMaxAttempts(_ backend: QueueBackend) async throws {
        let queue = try await makeQueue(backend)
        try await queue.setSetting(.maxAttempts, to: 2)
        try await queue.setSetting(.leaseMilliseconds, to: 100)
        try await queue.enqueue(name: "crashy", now: start)
        _ = try #require(try await queue.claim(workerID: "h:7:1", now: start))
        #expect(try await queue.recoverInterruptedBuilds(now: start + 100).isEmpty)
        #expect(try await queue.recoverInterruptedBuilds(now: start + 101).map(\.outcome) == [.requeued])
        _ = try #require(try await queue.claim(workerID: "h:8:1", now: start + 200))
        let rows = try await queue.recoverInterruptedBuilds(now: start + 301)
        #expect(rows.map(\.outcome) == [.failed])
        let record = try #require(try await queue.status("crashy").first)
        #expect(record.status == "failed")
        #expect(record.error == "worker h:8:1 stopped heartbeating during pulling (attempt 2 of 2)")
    }

    @Test("release gives the attempt back; retry resets a failed row", arguments: QueueBackend.allCases)
    func releaseAndRetry(_ backend: QueueBackend) async throws {
        let queue = try await makeQueue(backend)
        try await queue.enqueue(name: "img", now: start)
        let claim = try #require(try await queue.claim(workerID: "t:1:1", now: start))
        try await queue.release(claim, now: start)
        #expect(try await queue.status("img").first?.attempts == 0)
        let second = try #require(try await queue.claim(workerID: "t:1:1", now: start))
        try await queue.fail(second, error: "manifest unknown", kind: .permanent, now: start)
        #expect(try await queue.status("img").first?.errorKind == "permanent")
        #expect(try await queue.retry("img", now: start) == 1)
        let record = try #require(try await queue.status("img").first)
        #expect(record.status == "pending" && record.attempts == 0 && record.error == nil)
        await #expect(throws: QueueError.notFailed(reference: "img")) { try await queue.retry("img", now: start) }
        await #expect(throws: QueueError.notFound(reference: "nope")) { try await queue.retry("nope", now: start) }
    }

    @Test("status finds a row by the normalized form of what is asked for", arguments: QueueBackend.allCases)
    func statusNormalizes(_ backend: QueueBackend) async throws {
        let queue = try await makeQueue(backend)
        try await queue.enqueue(name: "alpine:latest", now: start)
        let claim = try #require(try await queue.claim(workerID: "t:1:1", now: start))
        try await queue.recordResolution(
            claim, normalizedName: "docker.io/library/alpine:latest", digest: "sha256:" + String(repeating: "a", count: 64),
            manifestDigest: "sha256:" + String(repeating: "a", count: 64), platform: "linux/amd64", now: start)
        #expect(try await queue.status("alpine").map(\.id) == [claim.id])
        #expect(try await queue.status("alpine:latest").map(\.id) == [claim.id])
        await #expect(throws: QueueError.notFound(reference: "alpine:3.20")) { try await queue.status("alpine:3.20") }
    }

    @Test("requeue fails the row on its last attempt", arguments: QueueBackend.allCases)
    func requeueAtLastAttempt(_ backend: QueueBackend) async throws {
        let queue = try await makeQueue(backend)
        try await queue.setSetting(.maxAttempts, to: 1)
        try await queue.enqueue(name: "img", now: start)
        let claim = try #require(try await queue.claim(workerID: "t:1:1", now: start))
        #expect(try await queue.requeue(claim, error: "timeout", retryAfter: 1, now: start) == .failed)
        #expect(try await queue.status("img").first?.error == "timeout (gave up after 1 attempts)")
    }

    @Test("image_status shows queue_position by priority then age, NULL for claimed rows", arguments: QueueBackend.allCases)
    func queuePositions(_ backend: QueueBackend) async throws {
        let queue = try await makeQueue(backend)
        var ids: [String: Int] = [:]
        for (name, priority) in [("a", 0), ("b", 10), ("c", 5), ("d", 0), ("e", 10)] {
            ids[name] = try await queue.enqueue(name: name, priority: priority, now: start)
        }
        #expect(try await queue.claim(workerID: "t:1:1", now: start)?.name == "b")
        var positions: [String: Int?] = [:]
        for (name, id) in ids { positions[name] = try await queue.queuePosition(id: id) }
        #expect(positions == ["a": 3, "b": nil, "c": 2, "d": 4, "e": 1])
    }

    @Test("counts by status include every status", arguments: QueueBackend.allCases)
    func counts(_ backend: QueueBackend) async throws {
        let queue = try await makeQueue(backend)
        for name in ["a", "b", "c"] { try await queue.enqueue(name: name, now: start) }
        _ = try await queue.claim(workerID: "t:1:1", now: start)
        let counts = try await queue.countsByStatus()
        #expect(counts == ["pending": 2, "pulling": 1, "converting": 0, "ready": 0, "failed": 0])
    }

    @Test("an unsupported format is refused", arguments: QueueBackend.allCases)
    func unsupportedFormat(_ backend: QueueBackend) async throws {
        let queue = try await makeQueue(backend)
        await #expect(throws: QueueError.unsupportedFormat("zip")) {
            try await queue.enqueue(name: "x", format: "zip", now: start)
        }
    }
}
