import Foundation
import ImageStore
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

    @Test("importLocalImage (public API) imports and asks by digest; import --enqueue is the same path")
    func importLocalImage() async throws {
        let scratch = try TemporaryDirectory(prefix: "import-local")
        defer { scratch.remove() }
        let data = scratch.url.appendingPathComponent("data")
        let expected = try await FixtureImages.expected("multilayer")
        let digest = try #require(expected.manifestDigest)
        let manager = try await ImageManager.open(layout: DataLayout(root: data))
        let image = try await manager.importLocalImage(
            from: try await FixtureImages.layout("multilayer"), as: "offline/multilayer:v1", format: "erofs")
        #expect(image.name == "docker.io/offline/multilayer@\(digest)")
        #expect(image.status == .pending && image.queuePosition == 1)
        // The CLI verb asks for the same row: nothing added.
        let cli = try await ProcessRunner.check(
            Child.imageWorker,
            ["import", try await FixtureImages.layout("multilayer").path, "--name", "offline/multilayer:v1",
             "--enqueue", "--format", "erofs", "--json", "--data-dir", data.path])
        #expect(try JSONDecoder().decode(Image.self, from: cli.stdout).id == image.id)
        let worker = try await ProcessRunner.run(
            Child.imageWorker, ["worker", "--exit-when-idle", "--data-dir", data.path])
        #expect(worker.status == 0, "\(worker.output)")
        let ready = try await manager.getImage(id: image.id)
        #expect(ready.status == .ready && ready.format == "erofs" && ready.diskPath?.hasSuffix(".erofs") == true)
        #expect(ready.cmd == ["echo hello from multilayer"])
        #expect(try await manager.listImages().count == 1)
    }
}
