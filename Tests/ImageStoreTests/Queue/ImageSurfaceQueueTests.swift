import Foundation
import TestSupport
import Testing

@testable import ImageStore

/// createImage's reuse rule, the BuildQueue figures and the conversion-progress columns, on
/// both backends (``QueueBackend``).
@Suite final class ImageSurfaceQueueTests: Sendable {
    let directory: URL
    let start = 1_800_000_000_000

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("surface-queue-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func makeQueue(_ backend: QueueBackend) async throws -> ImageQueue {
        let queue = try await backend.makeDatabase(in: directory).open()
        try await queue.setSetting(.maxInFlight, to: 100)
        return queue
    }

    func create(_ queue: ImageQueue, _ name: String, format: String = "ext4") async throws
        -> (id: Int, outcome: ImageQueue.CreateOutcome)
    {
        try await queue.createImage(
            try ImageReference(parsing: name), as: name, format: format, priority: 0, now: start)
    }

    @Test("createImage reuses a pending, building or ready row of the same name and format, retries a failed one", arguments: QueueBackend.allCases)
    func createReuses(_ backend: QueueBackend) async throws {
        let queue = try await makeQueue(backend)
        let first = try await create(queue, "alpine")
        #expect(first.outcome == .enqueued)
        // The same image typed another way, while pending: the normalized name matches.
        #expect(try await create(queue, "docker.io/library/alpine:latest") == (first.id, .existing))
        #expect(try await create(queue, "alpine", format: "cpio").outcome == .enqueued)
        let claim = try #require(try await queue.claim(workerID: "t:1:1", now: start))
        #expect(claim.id == first.id)
        #expect(try await queue.position(of: "alpine") == 1)  // the cpio row; the ext4 row is building
        #expect(try await create(queue, "alpine:latest") == (first.id, .existing))
        try await queue.fail(claim, error: "boom", kind: .permanent, now: start)
        #expect(try await create(queue, "alpine") == (first.id, .retried))
        let retried = try await queue.image(id: first.id)
        #expect(retried.status == .pending && retried.attempts == 0 && retried.error == nil)
        #expect(try await queue.images().count == 2)
        await #expect(throws: QueueError.unsupportedFormat("zip")) { try await self.create(queue, "alpine", format: "zip") }
    }

    @Test("activeCount, pendingCount, queueLength and position(of:) follow the rows", arguments: QueueBackend.allCases)
    func figures(_ backend: QueueBackend) async throws {
        let queue = try await makeQueue(backend)
        for name in ["a", "b", "c"] { _ = try await create(queue, name) }
        #expect(try await queue.pendingCount() == 3)
        #expect(try await queue.activeCount() == 0)
        #expect(try await queue.queueLength() == 3)
        #expect(try await queue.position(of: "c") == 3)
        let claim = try #require(try await queue.claim(workerID: "t:1:1", now: start))
        #expect(try await queue.pendingCount() == 2)
        #expect(try await queue.activeCount() == 1)
        #expect(try await queue.queueLength() == 3)
        #expect(try await queue.position(of: "a") == nil)
        #expect(try await queue.position(of: "c") == 2)
        #expect(try await queue.images(matching: "docker.io/library/c:latest").map(\.name) == ["c"])
        try await queue.complete(claim, now: start)
        #expect(try await queue.queueLength() == 2)
        #expect(try await queue.position(of: "nope") == nil)
    }

    @Test("progress figures: download while pulling, applied bytes from 0 once converting, late download figures dropped", arguments: QueueBackend.allCases)
    func conversionProgress(_ backend: QueueBackend) async throws {
        let queue = try await makeQueue(backend)
        let id = try await create(queue, "img").id
        let claim = try #require(try await queue.claim(workerID: "t:1:1", now: start))
        #expect(try await queue.recordProgress(claim, stage: .pulling, bytesDone: 900, bytesTotal: 1000, now: start))
        #expect(try await queue.image(id: id).bytesDone == 900)
        // A converting figure before the row converts is dropped too.
        #expect(try await !queue.recordProgress(claim, stage: .converting, bytesDone: 1, bytesTotal: 1000, now: start))
        try await queue.markConverting(claim, layerBytes: 1200, now: start)
        var image = try await queue.image(id: id)
        #expect(image.status == .converting && image.bytesDone == 0 && image.bytesTotal == 1200)
        #expect(try await !queue.recordProgress(claim, stage: .pulling, bytesDone: 1000, bytesTotal: 1000, now: start))
        #expect(try await queue.recordProgress(claim, stage: .converting, bytesDone: 400, bytesTotal: 1000, now: start))
        image = try await queue.image(id: id)
        #expect(image.bytesDone == 400 && image.bytesTotal == 1000)
        // Another claim's figures never land.
        let stale = Claim(id: claim.id, name: claim.name, format: claim.format, token: claim.token - 1,
                          attempts: claim.attempts, workerID: claim.workerID)
        #expect(try await !queue.recordProgress(stale, stage: .converting, bytesDone: 999, bytesTotal: 1000, now: start))
    }

    @Test("the progress box switches from download to applied figures and clamps them")
    func progressBox() {
        let box = ProgressBox()
        box.record(.layersPlanned(count: 2, totalBytes: 100, presentBytes: 10))
        box.record(.bytes(done: 60, total: 100))
        #expect(box.snapshot == ProgressBox.Snapshot(stage: .pulling, done: 60, total: 100))
        #expect(box.downloadedBytes == 50)
        box.startConverting(totalBytes: 120)
        box.record(.bytes(done: 100, total: 100))  // a late curl callback changes nothing
        box.recordApplied(30)
        #expect(box.snapshot == ProgressBox.Snapshot(stage: .converting, done: 30, total: 120))
        box.recordApplied(500)
        #expect(box.snapshot.done == 120)
    }
}
