import Foundation
import ImageStore
import TestSupport
import Testing

extension EndToEnd {
    /// Workers killed or stopped mid-build: the row still ends right and nothing is left behind.
    @Suite("Recovery") struct Recovery {
        @Test("SIGKILL while pulling: a restarted worker makes the row ready, nothing partial is ever visible")
        func killedWhilePulling() async throws {
            let sandbox = try await WorkerSandbox.make("kill-pull")
            try await sandbox.setSetting(.leaseMilliseconds, 2_000)
            let layout = try await FixtureImages.layout("multilayer")
            // About 1 MB/s: the 4 MiB layer takes seconds, so the kill lands mid-download.
            try await FaultServer.with(layout: layout, faults: [.slow(bytesPerSecond: 1_000_000, path: "/blobs/")]) {
                server in
                try await sandbox.insert([(server.reference(repository: "e2e/slow-pull"), .ext4)])
                let watcher = try await FinalPathWatcher.start(database: sandbox.database)
                let doomed = try sandbox.startWorker()
                try await Child.waitUntil("bytes downloaded while pulling") {
                    let row = try await sandbox.rows("SELECT status, bytes_done FROM images WHERE id = 1").first
                    return row?["status"] == "pulling" && (Int(row?["bytes_done"] ?? "") ?? 0) > 0
                }
                try await killAndRestart(doomed, sandbox: sandbox, expecting: "pulling")
                try await expectCleanFinish(sandbox, watcher: watcher, fixture: "multilayer", format: .ext4)
            }
        }

        @Test("SIGKILL while converting: a restarted worker makes the row ready, nothing partial is ever visible")
        func killedWhileConverting() async throws {
            // 200 MiB of incompressible data. Layers are applied while they download, so converting
            // is only the tail after the last blob (a fraction of a second): the worker is frozen
            // the moment its row is seen converting, and a build that got past it first is tried
            // again in a fresh sandbox.
            let layout = try await FixtureImages.layout("large")
            try await FaultServer.with(layout: layout) { server in
                for trial in 1...5 {
                    let sandbox = try await WorkerSandbox.make("kill-convert-\(trial)")
                    try await sandbox.setSetting(.leaseMilliseconds, 2_000)
                    try await sandbox.insert([(server.reference(repository: "e2e/large"), .ext4)])
                    let watcher = try await FinalPathWatcher.start(database: sandbox.database)
                    let doomed = try sandbox.startWorker()
                    guard try await freezeWhenConverting(doomed, sandbox: sandbox) else {
                        kill(doomed.process.processIdentifier, SIGKILL)
                        try await doomed.wait()
                        _ = await watcher.stop()
                        continue
                    }
                    try await killAndRestart(doomed, sandbox: sandbox, expecting: "converting")
                    try await expectCleanFinish(sandbox, watcher: watcher, fixture: "large", format: .ext4)
                    return
                }
                Issue.record("in 5 trials the build never stayed converting long enough to be frozen there")
            }
        }

        /// Looks at the row in-process every few milliseconds and SIGSTOPs `worker` once it is
        /// converting.
        /// - Returns: whether the frozen worker's row is converting (false: the build got past
        ///   it before the stop landed).
        private func freezeWhenConverting(_ worker: Child, sandbox: WorkerSandbox) async throws -> Bool {
            let queue = try await ImageQueue.open(path: sandbox.database)
            let pid = worker.process.processIdentifier
            var frozen = false
            try await Child.waitUntil("the row to be converting", seconds: 60) {
                let counts = try await queue.countsByStatus()
                if counts["converting", default: 0] > 0 {
                    kill(pid, SIGSTOP)
                    frozen = true
                }
                return frozen || counts["ready", default: 0] + counts["failed", default: 0] > 0
            }
            guard frozen else { return false }
            return try await sandbox.sqlite("SELECT status FROM images WHERE id = 1") == "converting"
        }

        @Test(
            "SIGTERM mid-build: the worker exits 0 and the row is ready, or released to pending at the deadline",
            arguments: [false, true])
        func gracefulStop(deadlineFirst: Bool) async throws {
            let sandbox = try await WorkerSandbox.make("sigterm")
            let layout = try await FixtureImages.layout("multilayer")
            let rate = deadlineFirst ? 200_000 : 2_000_000
            try await FaultServer.with(layout: layout, faults: [.slow(bytesPerSecond: rate, path: "/blobs/")]) {
                server in
                try await sandbox.insert([(server.reference(repository: "e2e/sigterm"), .ext4)])
                let worker = try sandbox.startWorker(deadlineFirst ? ["--shutdown-timeout", "1"] : [])
                try await Child.waitUntil("bytes downloaded while pulling") {
                    let row = try await sandbox.rows("SELECT status, bytes_done FROM images WHERE id = 1").first
                    return row?["status"] == "pulling" && (Int(row?["bytes_done"] ?? "") ?? 0) > 0
                }
                kill(worker.process.processIdentifier, SIGTERM)
                let status = try await worker.wait(seconds: 60)
                #expect(status == 0, "stderr: \(worker.stderr.suffix(2000))")
                let row = try #require(
                    try await sandbox.rows("SELECT status, worker_id, lease_expires_at, attempts FROM images").first)
                if deadlineFirst {
                    #expect(row["status"] == "pending")
                    #expect(row["attempts"] == "0", "a released attempt is given back")
                    #expect(worker.stderr.contains("released to pending at shutdown"))
                } else {
                    #expect(row["status"] == "ready")
                }
                #expect(row["worker_id"] == "" && row["lease_expires_at"] == "", "no live lease: \(row)")
                #expect(sandbox.leftovers().isEmpty)
                #expect(sandbox.dataFiles().filter { $0.contains(".tmp-") }.isEmpty)
            }
        }

        @Test(
            "SIGKILL at random moments: each build ends ready with the very bytes of an uninterrupted one, nothing left behind",
            arguments: QueueBackend.allCases)
        func killedAtRandomMoments(_ backend: QueueBackend) async throws {
            let layout = try await FixtureImages.layout("multilayer")
            // About 4 MB/s: from the worker's start, pulling (applying while downloading),
            // converting and publishing take about 1.2 s here, and the kills land anywhere in it.
            // The uninterrupted builds run on SQLite: the disks do not depend on the backend.
            try await FaultServer.with(layout: layout, faults: [.slow(bytesPerSecond: 4_000_000, path: "/blobs/")]) {
                server in
                let reference = server.reference(repository: "e2e/random-kill")
                let formats: [DiskFormat] = [.ext4, .cpio, .erofs]
                var expected: [DiskFormat: String] = [:]
                let uninterrupted = try await WorkerSandbox.make("kill-reference")
                try await uninterrupted.insert(formats.map { (reference, $0) })
                try await uninterrupted.drain()
                for (index, format) in formats.enumerated() {
                    let path = try #require(
                        try await uninterrupted.rows("SELECT artifact_path FROM image_status WHERE id = \(index + 1)").first?[
                            "artifact_path"])
                    expected[format] = try await ProcessRunner.sha256(of: URL(fileURLWithPath: path))
                }
                var generator = SystemRandomNumberGenerator()
                // The database's clock in the schema's unit, to see the dead worker's lease run out.
                let now =
                    backend == .sqlite
                    ? "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)" : "(extract(epoch FROM now()) * 1000)::bigint"
                for trial in 0..<6 {
                    let format = formats[trial % formats.count]
                    let delay = Double.random(in: 0.02...1.3, using: &generator)
                    let trialName = "\(backend) trial \(trial), \(format.rawValue), SIGKILL after \(String(format: "%.2f", delay)) s"
                    let sandbox = try await WorkerSandbox.make("kill-random-\(trial)", backend: backend)
                    try await sandbox.setSetting(.leaseMilliseconds, 1_000)
                    try await sandbox.insert([(reference, format)])
                    let watcher = try await FinalPathWatcher.start(database: sandbox.database)
                    let doomed = try sandbox.startWorker()
                    try await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                    kill(doomed.process.processIdentifier, SIGKILL)
                    try await doomed.wait()
                    let killedIn = try await sandbox.sqlite("SELECT status FROM images")
                    let context = "\(trialName) (row \(killedIn))"
                    try await Child.waitUntil("the dead worker's lease to expire (\(context))") {
                        try await sandbox.sqlite(
                            """
                            SELECT count(*) FROM images WHERE lease_expires_at >= \(now)
                            """) == "0"
                    }
                    try await sandbox.drain()
                    let (_, partial) = await watcher.stop()
                    let row = try #require(try await sandbox.rows("SELECT status, artifact_path FROM image_status").first)
                    #expect(row["status"] == "ready", "\(context): \(row)")
                    #expect(partial.isEmpty, "\(context): seen under a final path unfinished: \(partial)")
                    let path = try #require(row["artifact_path"], "\(context)")
                    let digest = try await ProcessRunner.sha256(of: URL(fileURLWithPath: path))
                    #expect(digest == expected[format], "\(context): the rebuilt disk differs from an uninterrupted build")
                    #expect(sandbox.leftovers().isEmpty, "\(context): \(sandbox.leftovers())")
                    #expect(sandbox.dataFiles().filter { $0.contains(".tmp-") }.isEmpty, "\(context): \(sandbox.dataFiles().sorted())")
                    #expect(try await sandbox.sqlite("SELECT count(*) FROM artifacts WHERE state != 'ready'") == "0", "\(context)")
                }
            }
        }

        /// SIGKILLs `doomed` (the row must be `status`), waits out its lease, runs a fresh worker.
        private func killAndRestart(_ doomed: Child, sandbox: WorkerSandbox, expecting status: String) async throws {
            kill(doomed.process.processIdentifier, SIGKILL)
            try await doomed.wait()
            #expect(try await sandbox.sqlite("SELECT status FROM images WHERE id = 1") == status)
            if status == "converting" {
                #expect(sandbox.leftovers().contains { $0.hasPrefix("tmp/build-1-") }, "the kill left scratch behind")
            }
            try await Child.waitUntil("the dead worker's lease to expire") {
                try await sandbox.sqlite(
                    "SELECT lease_expires_at < CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) FROM images")
                    == "1"
            }
            try await sandbox.drain()
        }

        /// The row is ready on its second attempt, its disk reads back, nothing partial was seen
        /// under the final path, and no scratch or temp file is left: recovery removed the killed
        /// worker's scratch and its half-downloaded blobs, without any gc.
        private func expectCleanFinish(
            _ sandbox: WorkerSandbox, watcher: FinalPathWatcher, fixture: String, format: DiskFormat
        ) async throws {
            let (looks, partial) = await watcher.stop()
            let row = try #require(
                try await sandbox.rows("SELECT status, attempts, artifact_path FROM image_status").first)
            #expect(row["status"] == "ready")
            #expect(row["attempts"] == "2")
            #expect(looks > 0)
            #expect(partial.isEmpty, "seen under a final path but not the finished file: \(partial)")
            #expect(sandbox.leftovers().isEmpty, "\(sandbox.leftovers())")
            #expect(try await sandbox.sqlite("SELECT count(*) FROM artifacts WHERE state != 'ready'") == "0")
            let path = try #require(row["artifact_path"])
            let expected = try await PushedImages.converted(fixture).tree
            try await DiskReadback.verify(path, format: format, expected: expected, scratch: sandbox.directory)
            #expect(sandbox.dataFiles().filter { $0.contains(".tmp-") }.isEmpty, "\(sandbox.dataFiles().sorted())")
        }
    }
}
