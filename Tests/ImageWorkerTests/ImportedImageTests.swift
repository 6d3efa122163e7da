import Foundation
import TestSupport
import Testing

/// The seed's `ImportLocalImage`: an image imported from an OCI layout becomes a disk with no
/// registry at all, when enqueued by digest.
@Suite("imported images convert without a registry")
struct ImportedImageTests {
    @Test("import, enqueue by digest, and the worker makes it ready offline")
    func importedImageBecomesReady() async throws {
        let scratch = try TemporaryDirectory(prefix: "imported")
        defer { scratch.remove() }
        let data = scratch.url.appendingPathComponent("data").path
        let expected = try await FixtureImages.expected("multilayer")
        let digest = try #require(expected.manifestDigest)
        try await ProcessRunner.check(
            Child.imageWorker,
            ["import", try await FixtureImages.layout("multilayer").path, "--name", "offline/multilayer:v1",
             "--data-dir", data])
        // A registry host that cannot answer: any network use would fail the row.
        let name = "127.0.0.1:9/offline/multilayer@\(digest)"
        try await ProcessRunner.check(Child.imageWorker, ["enqueue", name, "--data-dir", data])
        let worker = try await ProcessRunner.run(
            Child.imageWorker, ["worker", "--exit-when-idle", "--data-dir", data])
        #expect(worker.status == 0, "\(worker.output)")
        let row = try await ProcessRunner.check(
            "sqlite3", ["\(data)/image-worker.db", "SELECT status || ' ' || coalesce(error, '') FROM images"])
        #expect(String(decoding: row.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "ready")
    }
}
