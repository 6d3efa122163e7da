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

    /// Issue #10 item 21: as `docker load` then `docker run`, the name given to `import`
    /// resolves from the content store, never from a registry.
    @Test("an imported NAME:TAG exports and becomes ready offline, by INSERT too")
    func importedNameResolvesOffline() async throws {
        let scratch = try TemporaryDirectory(prefix: "imported-name")
        defer { scratch.remove() }
        let data = scratch.url.appendingPathComponent("data").path
        // A registry host that cannot answer: any network use would fail.
        let name = "127.0.0.1:9/local/app:v1"
        try await ProcessRunner.check(
            Child.imageWorker,
            ["import", try await FixtureImages.layout("multilayer").path, "--name", name, "--data-dir", data])
        let disk = scratch.url.appendingPathComponent("app.cpio").path
        let export = try await ProcessRunner.run(
            Child.imageWorker, ["export", name, "--format", "cpio", "-o", disk, "--data-dir", data])
        #expect(export.status == 0, "\(export.output)")
        #expect(FileManager.default.fileExists(atPath: disk))

        try await ProcessRunner.check(
            "sqlite3", ["\(data)/image-worker.db", "INSERT INTO images(name, format) VALUES ('\(name)', 'cpio')"])
        let worker = try await ProcessRunner.run(Child.imageWorker, ["worker", "--exit-when-idle", "--data-dir", data])
        #expect(worker.status == 0, "\(worker.output)")
        let row = try await ProcessRunner.check(
            "sqlite3", ["\(data)/image-worker.db", "SELECT status || ' ' || coalesce(error, '') FROM images"])
        #expect(String(decoding: row.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "ready")
        let expected = try await FixtureImages.expected("multilayer")
        let digest = try await ProcessRunner.check(
            "sqlite3", ["\(data)/image-worker.db", "SELECT manifest_digest FROM images"])
        #expect(String(decoding: digest.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            == expected.manifestDigest)
    }

    @Test("a pulled name is not local: only import marks a name as resolving from the store")
    func onlyImportMarks() async throws {
        let scratch = try TemporaryDirectory(prefix: "pulled-name")
        defer { scratch.remove() }
        let store = try ContentStore(root: scratch.url)
        let expected = try await FixtureImages.expected("multilayer")
        let digest = try Digest(parsing: try #require(expected.manifestDigest))
        let layout = try await FixtureImages.layout("multilayer")
        let manifest = try Data(contentsOf: layout.appendingPathComponent("blobs/sha256/\(digest.encoded)"))
        try await store.write(manifest)
        let pulled = try ImageReference(parsing: "127.0.0.1:9/pulled/app:v1")
        try await store.tag(Descriptor(mediaType: MediaType.ociManifest, digest: digest, size: Int64(manifest.count)), name: pulled.description)
        #expect(try store.importedDigest(named: pulled) == nil)
        let importer = ImageImporter(store: store, scratch: scratch.url)
        let local = try ImageReference(parsing: "127.0.0.1:9/local/app:v1")
        _ = try await importer.importImage(from: layout, tag: nil, as: local)
        #expect(try store.importedDigest(named: local) == digest)
        #expect(try store.importedDigest(named: local.withDigest(digest)) == nil)
    }

    /// Issue #10 item 17: a tar entry name full of escape sequences reaches `images.error` and
    /// the worker's log escaped.
    @Test("a hostile tar entry name is escaped in images.error")
    func tarNameEscaped() async throws {
        let scratch = try TemporaryDirectory(prefix: "tar-name")
        defer { scratch.remove() }
        let data = scratch.url.appendingPathComponent("data").path
        let layout = scratch.url.appendingPathComponent("layout")
        try await ProcessRunner.check(ProcessRunner.python, ["-c", Self.hostileLayoutScript, layout.path])
        let name = "127.0.0.1:9/hostile/tarname:v1"
        try await ProcessRunner.check(Child.imageWorker, ["import", layout.path, "--name", name, "--data-dir", data])
        try await ProcessRunner.check(Child.imageWorker, ["migrate", "--data-dir", data])
        try await ProcessRunner.check(
            "sqlite3", ["\(data)/image-worker.db", "INSERT INTO images(name, format) VALUES ('\(name)', 'cpio')"])
        let worker = try await ProcessRunner.run(Child.imageWorker, ["worker", "--exit-when-idle", "--data-dir", data])
        #expect(worker.status == 0, "\(worker.output)")
        #expect(!worker.output.contains("\u{1B}]0;"), "the log carries a raw escape sequence")
        let row = try await ProcessRunner.check(
            "sqlite3", ["\(data)/image-worker.db", "SELECT status, error_kind, error FROM images", "-separator", "|"])
        let text = String(decoding: row.stdout, as: UTF8.self)
        #expect(text.hasPrefix("failed|permanent|"), "\(text)")
        #expect(text.contains(#"\x1b]0;pwned\x07\x1b[2J"#), "\(text)")
        #expect(!text.dropLast().unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, "\(text)")
    }

    /// Writes a one-layer OCI layout (tag `latest`) whose only entry, a path through `..`,
    /// carries an OSC title sequence and a screen clear in its name.
    static let hostileLayoutScript = #"""
        import hashlib, io, json, os, sys, tarfile
        out = sys.argv[1]
        blobs = os.path.join(out, "blobs", "sha256")
        os.makedirs(blobs)
        def put(data):
            digest = hashlib.sha256(data).hexdigest()
            with open(os.path.join(blobs, digest), "wb") as f:
                f.write(data)
            return {"digest": "sha256:" + digest, "size": len(data)}
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            entry = tarfile.TarInfo("\x1b]0;pwned\x07\x1b[2Jx/../../escape")
            entry.mtime = 1700000000
            tar.addfile(entry, io.BytesIO(b""))
        layer = buffer.getvalue()
        config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers",
            "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}).encode()
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": dict(put(config), mediaType="application/vnd.oci.image.config.v1+json"),
            "layers": [dict(put(layer), mediaType="application/vnd.oci.image.layer.v1.tar")]}).encode()
        top = dict(put(manifest), mediaType="application/vnd.oci.image.manifest.v1+json",
            annotations={"org.opencontainers.image.ref.name": "latest"})
        with open(os.path.join(out, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [top]}, f)
        with open(os.path.join(out, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion": "1.0.0"}')
        """#
}
