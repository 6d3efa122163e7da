import Foundation
import ImageStore
import TestSupport
import Testing

extension EndToEnd {
    /// `image-worker export` to ext4 pulls with ``ImagePuller/pullStreaming(_:platform:progress:)``:
    /// layer N is applied while layers N+1… download (issue 12 item 4).
    @Suite("Apply while downloading") struct Pipeline {
        /// The layer digests of a fixture layout's one manifest, base first.
        static func layerDigests(_ layout: URL) throws -> [String] {
            struct Index: Decodable { struct Entry: Decodable { let digest: String }; let manifests: [Entry] }
            struct Manifest: Decodable { struct Layer: Decodable { let digest: String }; let layers: [Layer] }
            let index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: layout.appendingPathComponent("index.json")))
            let top = try #require(index.manifests.first).digest
            let blob = layout.appendingPathComponent("blobs/sha256/\(top.dropFirst("sha256:".count))")
            return try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: blob)).layers.map(\.digest)
        }

        @Test("a cold streaming export, a warm one and the worker's build of the same digest are byte-identical, every blob is stored, and export creates no database")
        func sameDisk() async throws {
            let sandbox = try await WorkerSandbox.make("pipeline")
            let reference = try await PushedImages.shared.reference("multilayer")
            let layers = try Self.layerDigests(try await FixtureImages.layout("multilayer"))
            try #require(layers.count == 3)
            // A data directory that export alone has ever used: it needs no queue, so no database.
            let data = sandbox.directory.appendingPathComponent("export-data")
            var hashes: [String] = []
            for run in ["cold", "warm"] {
                let output = sandbox.directory.appendingPathComponent("\(run).ext4")
                try await ProcessRunner.check(
                    Child.imageWorker, ["export", reference, "--format", "ext4", "-o", output.path, "--data-dir", data.path])
                hashes.append(try await ProcessRunner.sha256(of: output))
                try await ProcessRunner.check("e2fsck", ["-fn", output.path])
            }
            let database = data.appendingPathComponent("image-worker.db").path
            #expect(!FileManager.default.fileExists(atPath: database), "export created \(database)")
            for layer in layers {
                let blob = data.appendingPathComponent("oci/blobs/sha256/\(layer.dropFirst("sha256:".count))")
                #expect(FileManager.default.fileExists(atPath: blob.path), "layer \(layer) is not in the content store")
            }
            let worker = try await WorkerSandbox.make("pipeline-worker")
            try await worker.insert([(reference, .ext4)])
            try await worker.drain()
            let row = try #require(try await worker.rows("SELECT status, artifact_path FROM image_status").first)
            #expect(row["status"] == "ready", "\(row)")
            let path = try #require(row["artifact_path"])
            hashes.append(try await ProcessRunner.sha256(of: URL(fileURLWithPath: path)))
            #expect(Set(hashes).count == 1, "cold, warm, worker: \(hashes)")
        }

        @Test("a wrong blob for a later layer fails the streaming export and publishes no disk", arguments: [1, 2])
        func wrongBlob(_ index: Int) async throws {
            let sandbox = try await WorkerSandbox.make("pipeline-bad")
            let layout = try await FixtureImages.layout("multilayer")
            let layer = try Self.layerDigests(layout)[index]
            try await FaultServer.with(layout: layout, faults: [.wrongBytes(path: "/blobs/\(layer)")]) { server in
                let output = sandbox.directory.appendingPathComponent("bad.ext4")
                let run = try await ProcessRunner.run(
                    Child.imageWorker,
                    ["export", server.reference(repository: "e2e/pipeline"), "--format", "ext4", "-o", output.path,
                     "--data-dir", sandbox.data.path])
                let stderr = String(decoding: run.stderr, as: UTF8.self)
                #expect(run.status != 0, "\(stderr)")
                #expect(stderr.contains(layer), "the error names the layer: \(stderr)")
                #expect(!FileManager.default.fileExists(atPath: output.path), "a disk was published")
                let left = try FileManager.default.contentsOfDirectory(atPath: output.deletingLastPathComponent().path)
                #expect(!left.contains { $0.contains(".tmp-") }, "temp disk left: \(left)")
            }
        }
    
        @Test("the worker streams too: a wrong blob for a later layer fails the row naming the layer, publishes no disk and leaves no scratch")
        func workerWrongBlob() async throws {
            let sandbox = try await WorkerSandbox.make("pipeline-worker-bad")
            try await sandbox.setSetting(.maxAttempts, 1)
            let layout = try await FixtureImages.layout("multilayer")
            let layer = try Self.layerDigests(layout)[2]
            try await FaultServer.with(layout: layout, faults: [.wrongBytes(path: "/blobs/\(layer)")]) { server in
                try await sandbox.insert([(server.reference(repository: "e2e/pipeline-worker"), .ext4)])
                try await sandbox.drain()
            }
            let row = try #require(try await sandbox.rows("SELECT status, error, artifact_path FROM image_status").first)
            #expect(row["status"] == "failed", "\(row)")
            #expect(row["error"]?.contains(layer) == true, "the error names the layer: \(row)")
            #expect(row["artifact_path"] == "")
            #expect(sandbox.leftovers() == [], "\(sandbox.leftovers())")
            #expect(!sandbox.dataFiles().contains { $0.hasPrefix("disks/") }, "\(sandbox.dataFiles().sorted())")
        }
    
        @Test("a blob that must be downloaded again from its start while its layer is read (a server ignoring Range) is read again: the export succeeds, byte-identical to an undisturbed one")
        func restartedDownload() async throws {
            let sandbox = try await WorkerSandbox.make("pipeline-restart")
            let layout = try await FixtureImages.layout("multilayer")
            let layer = try Self.layerDigests(layout)[1]
            let clean = sandbox.directory.appendingPathComponent("clean.ext4")
            try await FaultServer.with(layout: layout, faults: []) { server in
                let run = try await ProcessRunner.run(
                    Child.imageWorker,
                    ["export", server.reference(repository: "e2e/pipeline"), "--format", "ext4", "-o", clean.path,
                     "--data-dir", sandbox.directory.appendingPathComponent("clean-data").path])
                #expect(run.status == 0, "\(String(decoding: run.stderr, as: UTF8.self))")
            }
            let faults: [Fault] = [.dropConnection(afterBytes: 200_000, path: "/blobs/\(layer)"), .ignoreRange(path: "/blobs/\(layer)")]
            try await FaultServer.with(layout: layout, faults: faults) { server in
                let output = sandbox.directory.appendingPathComponent("restarted.ext4")
                try await sandbox.imageWorker(
                    ["export", server.reference(repository: "e2e/pipeline"), "--format", "ext4", "-o", output.path])
                let requests = try await server.requests().filter { $0.path.contains(layer) }
                #expect(requests.map(\.status) == [200, 200], "\(requests)")
                #expect(requests.last?.range != nil, "the second request asked for a range: \(requests)")
                #expect(try await ProcessRunner.sha256(of: output) == ProcessRunner.sha256(of: clean))
            }
        }

        @Test("SIGINT or SIGTERM mid-export cancels it: exit 130, no disk and no temp file beside the output", arguments: [SIGINT, SIGTERM])
        func interrupted(_ signal: Int32) async throws {
            let sandbox = try await WorkerSandbox.make("pipeline-interrupted")
            let layout = try await FixtureImages.layout("multilayer")
            let last = try #require(try Self.layerDigests(layout).last)
            // The last layer trickles in, so the export is still writing its disk when signalled.
            try await FaultServer.with(layout: layout, faults: [.slow(bytesPerSecond: 2_000, path: "/blobs/\(last)")]) { server in
                let outputs = sandbox.directory.appendingPathComponent("outputs")
                try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
                let output = outputs.appendingPathComponent("interrupted.ext4")
                let child = try Child(
                    Child.imageWorker,
                    ["export", server.reference(repository: "e2e/pipeline"), "--format", "ext4", "-o", output.path,
                     "--data-dir", sandbox.data.path],
                    in: sandbox.directory)
                try await Child.waitUntil("the export's temp disk exists") {
                    try FileManager.default.contentsOfDirectory(atPath: outputs.path).contains { $0.contains(".tmp-") }
                }
                kill(child.process.processIdentifier, signal)
                let status = try await child.wait(seconds: 30)
                #expect(status == 130, "exit \(status): \(child.stderr)")
                let left = try FileManager.default.contentsOfDirectory(atPath: outputs.path)
                #expect(left.isEmpty, "left beside the output: \(left)")
            }
        }
    }
}
