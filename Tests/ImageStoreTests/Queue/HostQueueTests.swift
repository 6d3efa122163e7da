import Foundation
import TestSupport
import Testing

@testable import ImageStore

/// Hosts on one queue (issue 14 item 4), on both backends (``QueueBackend``): two queues on one
/// database acting as two hosts, as two hosts' workers would.
@Suite final class HostQueueTests: Sendable {
    let directory: URL
    let start = 1_800_000_000_000
    let digest = "sha256:" + String(repeating: "c", count: 64)

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("host-queue-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Host `a` and host `b` on one fresh database.
    func makeHosts(_ backend: QueueBackend) async throws -> (QueueTestDatabase, a: ImageQueue, b: ImageQueue) {
        let database = try await backend.makeDatabase(in: directory)
        let a = try await ImageQueue.open(path: database.location, host: "host-a")
        let b = try await ImageQueue.open(path: database.location, host: "host-b")
        try await a.setSetting(.maxInFlight, to: 100)
        return (database, a, b)
    }

    /// Claims one row on `queue` and converts it into a real file under `root`, publishing it.
    /// - Returns: the claim and the disk's path.
    func buildAndPublish(_ queue: ImageQueue, root: URL, worker: String, now: Int) async throws -> (Claim, String) {
        let claim = try #require(try await queue.claim(workerID: worker, now: now))
        let finalPath = root.appendingPathComponent("disks/img.ext4")
        guard
            case .acquired(let artifactID) = try await queue.acquireBuild(
                claim, manifestDigest: digest, format: "ext4", path: finalPath.path, now: now)
        else {
            Issue.record("\(queue.host) has no disk of this digest yet, so it converts")
            return (claim, finalPath.path)
        }
        let scratch = root.appendingPathComponent("tmp-\(claim.id).ext4")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Data(repeating: 7, count: 8192).write(to: scratch)
        try await queue.publish(
            claim, artifactID: artifactID, sizeBytes: DiskFile.allocatedBytes(scratch.path), configJSON: "{}",
            now: now, moveIntoPlace: { try DiskFile.moveIntoPlace(scratch, to: finalPath) })
        return (claim, finalPath.path)
    }

    @Test("a row pinned to a host is claimed only there; unpinned rows go to any host", arguments: QueueBackend.allCases)
    func pinnedRowsStayOnTheirHost(_ backend: QueueBackend) async throws {
        let (database, a, b) = try await makeHosts(backend)
        try await b.enqueue(name: "for-b", priority: 9, targetHost: "host-b", now: start)
        // Another service pins with plain SQL, as the contract allows.
        try await database.sql("INSERT INTO images (name, target_host, priority) VALUES ('for-a', 'host-a', 5)")
        try await a.enqueue(name: "anyone", now: start)

        var claimedByA: [String] = []
        while let claim = try await a.claim(workerID: "host-a:1:1", now: start) { claimedByA.append(claim.name) }
        #expect(claimedByA == ["for-a", "anyone"], "host-a passes over the higher-priority row pinned to host-b")
        #expect(try await b.claim(workerID: "host-b:1:1", now: start)?.name == "for-b")
        #expect(try await b.claim(workerID: "host-b:1:1", now: start) == nil)
        #expect(try await a.list().map(\.targetHost) == ["host-b", "host-a", nil])
    }

    @Test("an empty or blank target host is refused, by the API and by the schema", arguments: QueueBackend.allCases)
    func emptyTargetHostRefused(_ backend: QueueBackend) async throws {
        let (database, a, _) = try await makeHosts(backend)
        await #expect(throws: QueueError.invalidHost("")) {
            try await a.enqueue(name: "x", targetHost: "", now: self.start)
        }
        await #expect(throws: QueueError.invalidHost("two words")) {
            try await a.enqueue(name: "x", targetHost: "two words", now: self.start)
        }
        await #expect(throws: (any Error).self) {
            try await database.sql("INSERT INTO images (name, target_host) VALUES ('x', '')")
        }
        #expect(try await a.list().isEmpty)
    }

    @Test("a pinned head row the schema refuses to claim is failed only by its own host", arguments: QueueBackend.allCases)
    func unclaimableRowFailedByItsHost(_ backend: QueueBackend) async throws {
        let (database, a, b) = try await makeHosts(backend)
        try await database.sql("INSERT INTO images (name, target_host, attempts) VALUES ('stuck', 'host-b', 1000000)")
        try await a.enqueue(name: "fine", now: start)
        #expect(try await a.claim(workerID: "host-a:1:1", now: start)?.name == "fine")
        #expect(try await a.status("stuck").first?.status == "pending", "host-a never touched host-b's row")
        #expect(try await b.claim(workerID: "host-b:1:1", now: start) == nil)
        #expect(try await b.status("stuck").first?.status == "failed")
    }

    @Test("dedupe is per host: a disk on one host never makes a row ready on another", arguments: QueueBackend.allCases)
    func dedupePerHost(_ backend: QueueBackend) async throws {
        let (_, a, b) = try await makeHosts(backend)
        let rootA = directory.appendingPathComponent("a")
        let rootB = directory.appendingPathComponent("b")
        try await a.enqueue(name: "img:1", targetHost: "host-a", now: start)
        try await a.enqueue(name: "img:2", targetHost: "host-b", now: start)
        try await a.enqueue(name: "img:3", targetHost: "host-a", now: start)

        let (_, pathA) = try await buildAndPublish(a, root: rootA, worker: "host-a:1:1", now: start)
        // Same digest, format and verity on host-b: converted again, into host-b's directory.
        let (_, pathB) = try await buildAndPublish(b, root: rootB, worker: "host-b:1:1", now: start + 1)
        // A second row of host-a shares host-a's disk.
        let third = try #require(try await a.claim(workerID: "host-a:1:1", now: start + 2))
        let lock = try await a.acquireBuild(
            third, manifestDigest: digest, format: "ext4", path: rootA.appendingPathComponent("disks/img.ext4").path,
            now: start + 2)
        guard case .ready(let shared, let sharedPath) = lock else {
            Issue.record("host-a shares its own disk, got \(lock)")
            return
        }
        #expect(sharedPath == pathA)
        #expect(try await a.completeSharing(third, artifactID: shared, now: start + 3))

        let artifacts = try await a.artifacts()
        #expect(artifacts.map(\.host).sorted() == ["host-a", "host-b"])
        #expect(Set(artifacts.compactMap(\.path)) == [pathA, pathB])
        let images = try await a.images()
        #expect(images.map(\.artifactHost) == ["host-a", "host-b", "host-a"])
        #expect(images.map(\.targetHost) == ["host-a", "host-b", "host-a"])
        #expect(images.map(\.diskPath) == [pathA, pathB, pathA])
    }

    @Test("collecting unreferenced artifacts and usage act on the host's own artifacts only", arguments: QueueBackend.allCases)
    func collectionPerHost(_ backend: QueueBackend) async throws {
        let (database, a, b) = try await makeHosts(backend)
        try await a.enqueue(name: "img:1", targetHost: "host-a", now: start)
        try await a.enqueue(name: "img:2", targetHost: "host-b", now: start)
        let (_, pathA) = try await buildAndPublish(a, root: directory.appendingPathComponent("a"), worker: "a:1:1", now: start)
        let (_, pathB) = try await buildAndPublish(b, root: directory.appendingPathComponent("b"), worker: "b:1:1", now: start)
        #expect(try await a.referencedDigests().contains(digest))

        try await database.sql("DELETE FROM images")
        #expect(try await a.deleteUnreferencedArtifacts() == [pathA])
        #expect(try await a.artifacts().map(\.host) == ["host-b"], "host-b's artifact waits for host-b")
        #expect(!(try await a.referencedDigests().contains(digest)), "host-a needs no blob of host-b's disk")
        #expect(try await b.referencedDigests().contains(digest))
        #expect(try await b.deleteUnreferencedArtifacts() == [pathB])
        #expect(try await a.artifacts().isEmpty)
    }

    @Test("delete removes the rows everywhere but only the deleting host's artifacts", arguments: QueueBackend.allCases)
    func deletePerHost(_ backend: QueueBackend) async throws {
        let (_, a, b) = try await makeHosts(backend)
        try await a.enqueue(name: "img:1", targetHost: "host-a", now: start)
        try await a.enqueue(name: "img:1", targetHost: "host-b", now: start)
        let (_, pathA) = try await buildAndPublish(a, root: directory.appendingPathComponent("a"), worker: "a:1:1", now: start)
        _ = try await buildAndPublish(b, root: directory.appendingPathComponent("b"), worker: "b:1:1", now: start)
        let deleted = try await a.delete("img:1")
        #expect(deleted.rows == 2 && deleted.orphanPaths == [pathA])
        #expect(try await b.artifacts().map(\.host) == ["host-b"])
    }

    @Test("recovery takes another host's row only once its lease expired on the database's clock", arguments: QueueBackend.allCases)
    func recoveryAcrossHosts(_ backend: QueueBackend) async throws {
        let (_, a, b) = try await makeHosts(backend)
        try await a.setSetting(.leaseMilliseconds, to: 1_000)
        try await a.enqueue(name: "img", targetHost: "host-b", now: start)
        let claim = try #require(try await b.claim(workerID: "host-b:9:1", now: start))
        #expect(try await a.recoverInterruptedBuilds(now: start + 1_000).isEmpty, "host-b's lease is live")
        let rows = try await a.recoverInterruptedBuilds(now: start + 1_001)
        #expect(rows.map(\.outcome) == [.requeued] && rows.first?.workerID == "host-b:9:1")
        #expect(try await a.claim(workerID: "host-a:1:1", now: start + 1_002) == nil, "still pinned to host-b")
        let again = try #require(try await b.claim(workerID: "host-b:10:1", now: start + 1_002))
        #expect(again.token == claim.token + 1)
    }

    @Test("outstanding work counts unpinned rows and the host's own, pending or in flight", arguments: QueueBackend.allCases)
    func outstandingPerHost(_ backend: QueueBackend) async throws {
        let (_, a, b) = try await makeHosts(backend)
        try await a.enqueue(name: "mine", targetHost: "host-a", now: start)
        try await a.enqueue(name: "theirs", targetHost: "host-b", now: start)
        try await a.enqueue(name: "anyone", now: start)
        #expect(try await a.outstandingCount() == 2)
        #expect(try await b.outstandingCount() == 2)
        let claim = try #require(try await a.claim(workerID: "a:1:1", now: start))
        try await a.complete(claim, now: start)
        #expect(try await a.outstandingCount() == 1, "host-a still has the unpinned row")
        let unpinned = try #require(try await a.claim(workerID: "a:1:1", now: start))
        #expect(try await a.outstandingCount() == 1, "in flight counts")
        try await a.complete(unpinned, now: start)
        #expect(try await a.outstandingCount() == 0, "host-b's backlog is not host-a's")
        #expect(try await b.outstandingCount() == 1)
    }

    @Test("SQLite: a claim reads the heads of the unpinned and of its own host's pending rows, never the others' backlog")
    func claimPlanSkipsOtherHosts() async throws {
        let database = try await QueueBackend.sqlite.makeDatabase(in: directory)
        _ = try await ImageQueue.open(path: database.location, host: "host-a")
        for statement in [Statements.claimNext.sql, Statements.headPending.sql] {
            // Unbound parameters are NULL; the plan does not depend on their values.
            let plan = try await database.sql("EXPLAIN QUERY PLAN \(statement)")
            #expect(plan.contains("USING INDEX images_pending_any"), "\(plan)")
            #expect(plan.contains("USING INDEX images_pending_pinned (target_host=?)"), "\(plan)")
            #expect(!plan.split(separator: "\n").contains { $0.hasSuffix("USING INDEX images_pending") }, "\(plan)")
        }
    }

    @Test("a pinned row's queue position counts only what its host may claim ahead of it", arguments: QueueBackend.allCases)
    func queuePositionPerHost(_ backend: QueueBackend) async throws {
        let (_, a, _) = try await makeHosts(backend)
        try await a.enqueue(name: "b-first", priority: 5, targetHost: "host-b", now: start)
        try await a.enqueue(name: "anyone", priority: 1, now: start)
        try await a.enqueue(name: "a-mine", targetHost: "host-a", now: start)
        try await a.enqueue(name: "b-second", targetHost: "host-b", now: start)
        let positions = try await a.images().map { "\($0.name) \($0.queuePosition ?? 0)" }
        #expect(positions == ["b-first 1", "anyone 2", "a-mine 2", "b-second 3"])
        // What host-a's next claims take, in order, agrees with its rows' positions.
        #expect(try await a.claim(workerID: "a:1:1", now: start)?.name == "anyone")
        #expect(try await a.claim(workerID: "a:1:1", now: start)?.name == "a-mine")
    }

    @Test("createImage reuses a row only when pinned the same way", arguments: QueueBackend.allCases)
    func createImageRespectsPinning(_ backend: QueueBackend) async throws {
        let (_, a, _) = try await makeHosts(backend)
        let reference = try ImageReference(parsing: "alpine:3.20")
        let any = try await a.createImage(reference, as: "alpine:3.20", format: "ext4", priority: 0, now: start)
        let onB = try await a.createImage(
            reference, as: "alpine:3.20", format: "ext4", priority: 0, targetHost: "host-b", now: start)
        let onBAgain = try await a.createImage(
            reference, as: "alpine:3.20", format: "ext4", priority: 0, targetHost: "host-b", now: start)
        #expect(any.outcome == .enqueued && onB.outcome == .enqueued && onBAgain.outcome == .existing)
        #expect(onBAgain.id == onB.id && onB.id != any.id)
    }
}
