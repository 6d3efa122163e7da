import Foundation
import TestSupport
import Testing

@testable import ImageStore

/// Claims from many connections at once, on both backends (``QueueBackend``): the global
/// limit holds and no row is taken twice. On PostgreSQL a plain count under READ COMMITTED
/// would let two claims both see room for one; the claim advisory lock is what holds it.
@Suite final class ClaimConcurrencyTests: Sendable {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("claim-concurrency-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// What one claiming connection saw.
    struct Tally: Sendable {
        var claimed: [Int] = []
        var mostInFlight = 0
    }

    @Test(
        "max_in_flight is never exceeded and no row is claimed twice with 8 connections claiming at once",
        arguments: QueueBackend.allCases)
    func hammer(_ backend: QueueBackend) async throws {
        let database = try await backend.makeDatabase(in: directory)
        let setup = try await database.open()
        let limit = 3
        let rows = 240
        try await setup.setSetting(.maxInFlight, to: limit)
        try await setup.enqueue(names: (0..<rows).map { "img-\($0)" })
        let tallies = try await withThrowingTaskGroup(of: Tally.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    let queue = try await database.open()
                    var tally = Tally()
                    var emptyClaims = 0
                    while emptyClaims < 100_000 {
                        guard let claim = try await queue.claim(workerID: "hammer:\(worker)") else {
                            if try await queue.count(status: "pending") == 0 { break }
                            emptyClaims += 1
                            continue
                        }
                        tally.claimed.append(claim.id)
                        // A worker works between claim and complete. An uncontended SQLite
                        // transaction runs on this task's thread without suspending it, so without
                        // this the first task would take every row before the others ran.
                        await Task.yield()
                        // Read while holding the row: every in-flight row counted is committed.
                        tally.mostInFlight = max(tally.mostInFlight, try await queue.activeCount())
                        try await queue.complete(claim)
                    }
                    return tally
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let claimed = tallies.flatMap(\.claimed)
        #expect(claimed.count == rows)
        #expect(Set(claimed).count == rows, "a row was claimed twice")
        #expect(tallies.map(\.mostInFlight).max() ?? 0 <= limit, "\(tallies.map(\.mostInFlight))")
        #expect(tallies.filter { !$0.claimed.isEmpty }.count > 1, "only one connection ever claimed")
        let records = try await setup.list()
        #expect(records.allSatisfy { $0.status == "ready" && $0.leaseToken == 1 && $0.attempts == 1 })
    }

    @Test(
        "8 connections deciding at once who converts one digest: one converts, the others wait, none fails",
        arguments: QueueBackend.allCases)
    func oneBuilderPerDigest(_ backend: QueueBackend) async throws {
        let database = try await backend.makeDatabase(in: directory)
        let setup = try await database.open()
        try await setup.setSetting(.maxInFlight, to: 100)
        // Leases as long as the schema allows: on a loaded machine the decisions below may come
        // more than the default 60 s after the claims, and this test is about the decisions.
        try await setup.setSetting(.leaseMilliseconds, to: 604_800_000)
        try await setup.enqueue(names: (0..<8).map { "tag-\($0)" })
        let digest = "sha256:" + String(repeating: "c", count: 64)
        let path = directory.appendingPathComponent("disk.ext4").path
        let claims = try await (0..<8).asyncMap { _ in try #require(try await setup.claim(workerID: "w:1:1")) }
        // Connected first, so the eight decisions overlap.
        let queues = try await (0..<8).asyncMap { _ in try await database.open() }
        let locks = try await withThrowingTaskGroup(of: BuildLock.self) { group in
            for (claim, queue) in zip(claims, queues) {
                group.addTask {
                    try await queue.acquireBuild(claim, manifestDigest: digest, format: "ext4", path: path)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(locks.filter { if case .acquired = $0 { true } else { false } }.count == 1, "\(locks)")
        #expect(locks.filter { $0 == .busy }.count == 7, "\(locks)")
        #expect(try await setup.artifacts().count == 1)
    }

    @Test("8 connections asking for one image at once get one row", arguments: QueueBackend.allCases)
    func oneRowPerRequest(_ backend: QueueBackend) async throws {
        let database = try await backend.makeDatabase(in: directory)
        let reference = try ImageReference(parsing: "alpine:3.20")
        let queues = try await (0..<8).asyncMap { _ in try await database.open() }
        let outcomes = try await withThrowingTaskGroup(of: ImageQueue.CreateOutcome.self) { group in
            for queue in queues {
                group.addTask {
                    try await queue.createImage(reference, as: "alpine:3.20", format: "ext4", priority: 0).outcome
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .enqueued }.count == 1, "\(outcomes)")
        #expect(try await database.open().list().count == 1)
    }
}

extension Range where Bound == Int {
    /// `map` with an async transform, in order.
    fileprivate func asyncMap<T>(_ transform: (Int) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for index in self { result.append(try await transform(index)) }
        return result
    }
}
