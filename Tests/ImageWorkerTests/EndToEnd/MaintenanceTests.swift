import Foundation
import ImageStore
import TestSupport
import Testing

extension EndToEnd {
    /// delete, gc and usage; the /metrics endpoint.
    @Suite("Maintenance and metrics") struct Maintenance {
        @Test("delete every name of an image, gc --grace 0: its files are gone and usage is back where it was", arguments: QueueBackend.allCases)
        func deleteAndCollect(_ backend: QueueBackend) async throws {
            let sandbox = try await WorkerSandbox.make("gc", backend: backend)
            let images = PushedImages.shared
            // An image that stays: its layers are the same gzip blobs as multilayer-docker's.
            try await sandbox.insert([(try await images.reference("multilayer"), .ext4)])
            try await sandbox.drain()
            let usageBefore = try await sandbox.imageWorker(["usage", "--json"])
            let filesBefore = sandbox.dataFiles()

            let tag = try await images.reference("multilayer-docker")
            let digest = try await images.digestReference("multilayer-docker")
            try await sandbox.insert([(tag, .ext4), (digest, .ext4), (tag, .cpio)])
            try await sandbox.drain()
            #expect(try await sandbox.sqlite("SELECT count(*) FROM images WHERE status = 'ready'") == "4")
            let added = sandbox.dataFiles().subtracting(filesBefore)
            #expect(added.contains { $0.hasPrefix("disks/") && $0.hasSuffix(".cpio") }, "\(added.sorted())")
            #expect(added.contains { $0.hasPrefix("oci/blobs/sha256/") }, "\(added.sorted())")
            #expect(try await sandbox.imageWorker(["usage", "--json"]) != usageBefore)

            try await sandbox.imageWorker(["delete", tag])
            try await sandbox.imageWorker(["delete", digest])
            #expect(try await sandbox.sqlite("SELECT count(*) FROM images") == "1")
            let report = try await sandbox.imageWorker(["gc", "--grace", "0", "--json"])
            #expect(report.contains("\"blobs_removed\""))

            let remaining = sandbox.dataFiles()
            #expect(
                remaining == filesBefore,
                "left: \(remaining.subtracting(filesBefore).sorted()), lost: \(filesBefore.subtracting(remaining).sorted())")
            #expect(try await sandbox.imageWorker(["usage", "--json"]) == usageBefore)
            // The image that stayed still reads back.
            let kept = try #require(
                try await sandbox.rows("SELECT artifact_path FROM image_status").first?["artifact_path"])
            let expected = try await PushedImages.converted("multilayer").tree
            try await DiskReadback.verify(kept, format: .ext4, expected: expected, scratch: sandbox.directory)
        }

        @Test("rows deleted with plain SQL: gc drops their artifact and disk file", arguments: QueueBackend.allCases)
        func sqlDeleteThenCollect(_ backend: QueueBackend) async throws {
            let sandbox = try await WorkerSandbox.make("sql-delete", backend: backend)
            try await sandbox.insert([(try await PushedImages.shared.reference("multiarch"), .cpio)])
            try await sandbox.drain()
            let disk = try await sandbox.sqlite("SELECT path FROM artifacts")
            #expect(!disk.isEmpty && FileManager.default.fileExists(atPath: disk))
            try await sandbox.sqlite("DELETE FROM images")
            try await sandbox.imageWorker(["gc", "--grace", "0"])
            #expect(try await sandbox.sqlite("SELECT count(*) FROM artifacts") == "0")
            #expect(!FileManager.default.fileExists(atPath: disk))
            #expect(sandbox.dataFiles().filter { $0.hasPrefix("oci/blobs/sha256/") }.isEmpty)
            #expect(try await sandbox.imageWorker(["usage", "--json"]).contains("\"image_bytes\" : 0"))
        }

        @Test("/metrics passes promtool and counts what the worker did")
        func metrics() async throws {
            let sandbox = try await WorkerSandbox.make("metrics")
            let images = PushedImages.shared
            let multilayer = try await images.reference("multilayer")
            try await sandbox.insert([
                (multilayer, .ext4), (multilayer, .erofs), (try await images.reference("multiarch"), .cpio),
                (try await images.reference("multilayer", tag: "v2"), .ext4),
                (multilayer.replacingOccurrences(of: ":v1", with: ":absent"), .ext4),
            ])
            let worker = try sandbox.startWorker(["--metrics-addr", "127.0.0.1:0"])
            var endpoint: URL?
            try await Child.waitUntil("the metrics address in the log") {
                let lines = worker.stderr.split(separator: "\n")
                guard let line = lines.first(where: { $0.contains("metrics endpoint listening") }),
                    let range = line.range(of: #"http://[0-9.]+:[0-9]+/metrics"#, options: .regularExpression)
                else { return false }
                endpoint = URL(string: String(line[range]))
                return true
            }
            let url = try #require(endpoint)
            // Scrapers that send a request and hang up before the answer: each answer then
            // meets a closed socket, which must be an error for that answer only (a SIGPIPE
            // ended the worker here once, exit 141).
            let hangUps = try await ProcessRunner.run(
                ProcessRunner.python,
                [
                    "-c",
                    """
                    import socket, sys, time
                    for _ in range(20):
                        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
                        s.sendall(b"GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
                        s.close()
                        time.sleep(0.01)
                    """, String(url.port ?? 0),
                ])
            #expect(hangUps.status == 0, "\(String(decoding: hangUps.stderr, as: UTF8.self))")
            try #require(worker.process.isRunning, "the worker ended after scrapers hung up: \(worker.stderr)")
            try await sandbox.waitUntilSettled()
            // The rows turn ready before the process records its counters: poll the scrape.
            var samples: [String: Double] = [:]
            var text = ""
            do {
                try await Child.waitUntil("the counters of 5 builds", seconds: 30) {
                    text = String(decoding: try await CurlCLI.get(url).body, as: UTF8.self)
                    samples = Self.parse(text)
                    return Self.sum(samples, "image_build_duration_seconds_count") == 5
                        && samples["images{status=\"failed\"}"] == 1
                }
            } catch {
                Issue.record("last scrape:\n\(text)")
                throw error
            }
            let check = try await ProcessRunner.run("sh", ["-c", "printf '%s' \"$0\" | promtool check metrics", text])
            #expect(check.status == 0, "promtool: \(String(decoding: check.stdout + check.stderr, as: UTF8.self))")

            #expect(samples["image_conversions_total{format=\"ext4\"}"] == 1)
            #expect(samples["image_conversions_total{format=\"erofs\"}"] == 1)
            #expect(samples["image_conversions_total{format=\"cpio\"}"] == 1)
            #expect(Self.sum(samples, "image_pulls_total", where: "status=\"success\"") == 4)
            #expect(samples["images{status=\"ready\"}"] == 4)
            #expect(samples["images{status=\"pending\"}"] == 0)
            #expect(samples["image_queue_length"] == 0)
            #expect(Self.sum(samples, "image_build_duration_seconds_count", where: "status=\"failed\"") == 1)
            #expect((samples["image_downloaded_bytes_total"] ?? 0) > 1_000_000)

            kill(worker.process.processIdentifier, SIGTERM)
            #expect(try await worker.wait() == 0)
        }

        /// `name{labels} value` lines of the text format, keyed by `name{labels}` with the labels
        /// sorted, so lookups do not depend on the order the exporter writes them in.
        static func parse(_ text: String) -> [String: Double] {
            var samples: [String: Double] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                    continue
                }
                var key = String(line[..<space])
                if let open = key.firstIndex(of: "{"), key.hasSuffix("}") {
                    let labels = key[key.index(after: open)..<key.index(before: key.endIndex)]
                        .split(separator: ",").sorted().joined(separator: ",")
                    key = "\(key[..<open]){\(labels)}"
                }
                samples[key] = value
            }
            return samples
        }

        /// The sum of every sample of `name` whose labels contain `label`.
        static func sum(_ samples: [String: Double], _ name: String, where label: String = "") -> Double {
            samples.filter { key, _ in
                (key == name || key.hasPrefix(name + "{")) && (label.isEmpty || key.contains(label))
            }.reduce(0) { $0 + $1.value }
        }
    }
}
