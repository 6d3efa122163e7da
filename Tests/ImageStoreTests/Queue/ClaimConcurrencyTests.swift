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
}
