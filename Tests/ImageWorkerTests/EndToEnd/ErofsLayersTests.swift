import Foundation
import ImageStore
import TestSupport
import Testing

extension EndToEnd {
    /// The `erofs-layers` format through the queue (issue 13 part 3): per-layer disks shared
    /// between images, read back by the kernel's overlayfs, and delete/gc/usage bookkeeping.
    @Suite("erofs-layers") struct ErofsLayers {
        @Test(
            "an image sharing the base layer of a ready one converts only its own layers; the stacked disks equal each image's tree; delete and gc keep what another image lists; usage counts each disk once",
            .enabled(if: getuid() == 0, "loop and overlay mounts need root"), arguments: QueueBackend.allCases)
        func sharing(_ backend: QueueBackend) async throws {
            let sandbox = try await WorkerSandbox.make("layers", backend: backend)
            // systemd is the base layer alone; multilayer is that base and two more layers.
            let base = try await PushedImages.shared.reference("systemd")
            let stacked = try await PushedImages.shared.reference("multilayer")
            try await sandbox.insert([(base, .erofsLayers)])
            try await sandbox.drain()
            let first = try await Self.readyLayers(sandbox)
            #expect(first.map(\.layers.count) == [1])
            let baseDisk = try #require(first.first?.layers.first)
            let baseInode = try Self.inode(baseDisk.path)
            #expect(Self.layerFiles(sandbox) == [baseDisk.path])

            try await sandbox.insert([(stacked, .erofsLayers)])
            try await sandbox.drain()
            let both = try await Self.readyLayers(sandbox)
            #expect(both.map(\.layers.count) == [1, 3])
            let layers = try #require(both.last?.layers)
            // The base disk is listed by both and was not written again; only two were converted.
            #expect(layers[0] == baseDisk)
            #expect(try Self.inode(baseDisk.path) == baseInode)
            #expect(Self.layerFiles(sandbox) == Set(layers.map(\.path)))
            #expect(Set(layers.map(\.path)).count == 3)

            for (row, fixture) in zip(both, ["systemd", "multilayer"]) {
                #expect(row.sizeBytes == row.layers.reduce(0) { $0 + $1.sizeBytes })
                let file = try Data(contentsOf: URL(fileURLWithPath: row.path))
                #expect(ArtifactLayer.list(json: String(decoding: file, as: UTF8.self)) == row.layers)
                #expect(row.path.hasSuffix(".verity.erofs-layers.json"), "\(row.path)")
                for layer in row.layers {
                    #expect(layer.path.hasSuffix(".verity.erofs") && layer.path.hasPrefix(sandbox.data.path + "/layers/"))
                    let root = try #require(layer.verityRootHash)
                    let offset = try #require(layer.verityHashOffset)
                    try await ProcessRunner.check(
                        "veritysetup", ["verify", layer.path, layer.path, root, "--hash-offset=\(offset)"])
                }
                let expected = try await PushedImages.converted(fixture).tree
                try await DiskReadback.verify(row.path, format: .erofsLayers, expected: expected, scratch: sandbox.directory)
            }

            let unique = Set(layers.map(\.path)).union(both.map(\.path))
            let allocated = unique.reduce(Int64(0)) { $0 + DiskFile.allocatedBytes($1) }
            #expect(try await Self.imageBytes(sandbox) == allocated)

            // Deleting the stacked image removes its own layer disks; the base one stays listed.
            try await sandbox.imageWorker(["delete", stacked])
            #expect(Self.layerFiles(sandbox) == [baseDisk.path])
            #expect(!FileManager.default.fileExists(atPath: both[1].path))
            try await sandbox.imageWorker(["gc", "--grace", "0"])
            #expect(Self.layerFiles(sandbox) == [baseDisk.path])
            let expected = try await PushedImages.converted("systemd").tree
            try await DiskReadback.verify(both[0].path, format: .erofsLayers, expected: expected, scratch: sandbox.directory)

            // Rows deleted with plain SQL: gc drops the artifact, its list file and its layer disk.
            try await sandbox.sqlite("DELETE FROM images")
            try await sandbox.imageWorker(["gc", "--grace", "0"])
            #expect(Self.layerFiles(sandbox) == [])
            #expect(!FileManager.default.fileExists(atPath: both[0].path))
            #expect(try await Self.imageBytes(sandbox) == 0)
        }

        @Test("a layer disk deleted behind the worker's back is converted again by the next row of that image")
        func missingLayerDiskRebuilt() async throws {
            let sandbox = try await WorkerSandbox.make("layers-missing")
            let reference = try await PushedImages.shared.reference("systemd")
            try await sandbox.insert([(reference, .erofsLayers)])
            try await sandbox.drain()
            let disk = try #require(try await Self.readyLayers(sandbox).first?.layers.first)
            try FileManager.default.removeItem(atPath: disk.path)
            try await sandbox.sqlite("INSERT INTO images(name, format) VALUES ('\(reference)', 'erofs-layers')")
            try await sandbox.drain()
            let rows = try await Self.readyLayers(sandbox)
            #expect(rows.count == 2)
            #expect(rows.last?.layers == [disk])
            #expect(FileManager.default.fileExists(atPath: disk.path))
            #expect(try await sandbox.sqlite("SELECT conversions FROM artifacts") == "2")
        }

        /// One ready row of `image_status`: the list file, its size and its layers.
        struct ReadyRow {
            var path: String
            var sizeBytes: Int64
            var layers: [ArtifactLayer]
        }

        /// The ready rows in id order, every row required to be ready.
        static func readyLayers(_ sandbox: WorkerSandbox) async throws -> [ReadyRow] {
            try await sandbox.rows("SELECT status, format, artifact_path, size_bytes, layers FROM image_status ORDER BY id")
                .map { row in
                    #expect(row["status"] == "ready" && row["format"] == "erofs-layers", "\(row)")
                    return ReadyRow(
                        path: try #require(row["artifact_path"]), sizeBytes: try #require(Int64(row["size_bytes"] ?? "")),
                        layers: try #require(ArtifactLayer.list(json: row["layers"] ?? ""), "\(row)"))
                }
        }

        /// The files in the data directory's `layers/`, as absolute paths.
        static func layerFiles(_ sandbox: WorkerSandbox) -> Set<String> {
            let directory = sandbox.data.appendingPathComponent("layers")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return Set(names.map { directory.appendingPathComponent($0).path })
        }

        static func inode(_ path: String) throws -> UInt64 {
            try #require((try FileManager.default.attributesOfItem(atPath: path))[.systemFileNumber] as? UInt64)
        }

        /// `usage --json`'s image_bytes.
        static func imageBytes(_ sandbox: WorkerSandbox) async throws -> Int64 {
            let output = try await sandbox.imageWorker(["usage", "--json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            return try #require((object["image_bytes"] as? NSNumber)?.int64Value)
        }
    }
}
