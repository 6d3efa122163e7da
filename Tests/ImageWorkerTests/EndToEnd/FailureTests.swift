import Foundation
import ImageStore
import TestSupport
import Testing

extension EndToEnd {
    /// Registry errors: transient ones retried (in the client, then by the queue), permanent ones
    /// failed at once, and `image-worker retry` after the cause is fixed.
    @Suite("Failures") struct Failures {
        @Test("two 503s on the manifest are absorbed by the registry client: ready on the first attempt")
        func clientRetries() async throws {
            let sandbox = try await WorkerSandbox.make("503-client")
            let layout = try await FixtureImages.layout("multilayer")
            let faults = [Fault.status(503, times: 2, path: "/manifests/")]
            try await FaultServer.with(layout: layout, faults: faults) { server in
                try await sandbox.insert([(server.reference(repository: "e2e/flaky"), .ext4)])
                try await sandbox.drain()
                let row = try #require(try await sandbox.rows("SELECT status, attempts, error FROM images").first)
                #expect(row["status"] == "ready" && row["attempts"] == "1" && row["error"] == "", "\(row)")
                let manifests = try await server.requests().filter { $0.path.contains("/manifests/") }
                #expect(manifests.prefix(2).map(\.status) == [503, 503])
                #expect(manifests.dropFirst(2).allSatisfy { $0.status == 200 })
            }
        }

        @Test("more 503s than the client retries: the row goes back to pending with the error, then ready on attempt 2")
        func queueRetries() async throws {
            let sandbox = try await WorkerSandbox.make("503-queue")
            let layout = try await FixtureImages.layout("multilayer")
            // The client makes 5 attempts per request; the sixth answer is the manifest, held until
            // the test has looked at the row of the second attempt (a look in a 2 s backoff window
            // can miss it on a loaded machine).
            let faults = [Fault.status(503, times: 5, path: "/manifests/"), Fault.hold(after: 5, path: "/manifests/")]
            try await FaultServer.with(layout: layout, faults: faults) { server in
                try await sandbox.insert([(server.reference(repository: "e2e/flakier"), .ext4)])
                let worker = try sandbox.startWorker(["--exit-when-idle"])
                try await Child.waitUntil("the second attempt to wait for the manifest") {
                    try await sandbox.rows("SELECT status, attempts FROM images").first == ["status": "pulling", "attempts": "2"]
                }
                // Claimed again, so it went back to pending; the first attempt's error stays until one succeeds.
                let retried = try #require(try await sandbox.rows("SELECT error, error_kind, next_attempt_at FROM images").first)
                #expect(retried["error_kind"] == "transient", "\(retried)")
                #expect(retried["error"]?.contains("registry answered 503; try again later") == true, "\(retried)")
                #expect((Int(retried["next_attempt_at"] ?? "") ?? 0) > 0, "a backoff was set: \(retried)")
                #expect(worker.stderr.contains("transient failure; status pending"), "\(worker.stderr.suffix(2000))")
                try await server.release()
                #expect(try await worker.wait() == 0)
                let row = try #require(try await sandbox.rows("SELECT status, attempts, error, error_kind FROM images").first)
                #expect(row == ["status": "ready", "attempts": "2", "error": "", "error_kind": ""])
                let statuses = try await server.requests().filter { $0.path.contains("/manifests/") }.map(\.status)
                #expect(statuses.prefix(5) == [503, 503, 503, 503, 503])
            }
        }

        @Test("rows with invalid names fail at once with the reason; the worker goes on with the next row")
        func invalidNames() async throws {
            let sandbox = try await WorkerSandbox.make("invalid")
            let existing = try await PushedImages.shared.reference("multilayer")
            try await sandbox.insert([("", .ext4), ("invalid::", .ext4), ("Has Spaces", .ext4), (existing, .ext4)])
            try await sandbox.drain()
            let rows = try await sandbox.rows("SELECT status, attempts, error_kind, error FROM images ORDER BY id")
            for row in rows.prefix(3) {
                #expect(row["status"] == "failed" && row["attempts"] == "1" && row["error_kind"] == "permanent", "\(row)")
                #expect(row["error"]?.hasPrefix("invalid image name: ") == true, "\(row)")
            }
            #expect(rows.last?["status"] == "ready")
        }

        @Test("a missing tag fails at once with a not-found message; retry after pushing it makes it ready")
        func missingTagThenRetry() async throws {
            let sandbox = try await WorkerSandbox.make("missing")
            let registry = try #require(TestRegistry.current)
            let existing = try await PushedImages.shared.reference("multilayer")
            let name = registry.reference(repository: "e2e/multilayer", tag: "later-\(UUID().uuidString.prefix(6))")
            try await sandbox.insert([(name, .cpio), (existing, .cpio)])
            try await sandbox.drain()
            let failed = try #require(try await sandbox.rows("SELECT * FROM images WHERE id = 1").first)
            #expect(failed["status"] == "failed")
            #expect(failed["attempts"] == "1")
            #expect(failed["error_kind"] == "permanent")
            #expect(failed["error"]?.contains("manifest unknown") == true, "\(failed)")
            #expect(try await sandbox.sqlite("SELECT status FROM images WHERE id = 2") == "ready")

            let tag = String(name.split(separator: ":").last ?? "")
            let layout = try await FixtureImages.layout("multilayer")
            try await registry.push(layout: layout, repository: "e2e/multilayer", tag: tag)
            let output = try await sandbox.imageWorker(["retry", name])
            #expect(output.contains("requeued 1 row"))
            let statusAndAttempts = "SELECT status || ' ' || attempts FROM images WHERE id = 1"
            #expect(try await sandbox.sqlite(statusAndAttempts) == "pending 0")
            try await sandbox.drain()
            #expect(try await sandbox.sqlite(statusAndAttempts) == "ready 1")
            // Same manifest and format as row 2: the retried row shares its disk.
            #expect(try await sandbox.sqlite("SELECT count(DISTINCT artifact_id) FROM images") == "1")
            #expect(try await sandbox.sqlite("SELECT max(conversions) FROM artifacts") == "1")
        }
    }
}
