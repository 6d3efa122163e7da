import Foundation
import ImageStore
import TestSupport
import Testing

extension EndToEnd {
    /// Issue #10 items 1, 2, 3 (config cap) and 17: a table of hostile registry answers served by
    /// fault servers (plain HTTP, and HTTPS with its own CA) to one real `image-worker worker`.
    /// The worker survives every row, and every row ends `failed` with a clear, escaped error.
    @Suite("Hostile registries") struct HostileRegistries {
        /// One row of the table.
        struct Row: Sendable {
            /// Repository under `hostile/`; fault rules match on it.
            var name: String
            /// The tag (a manifest variant's tag, else `latest`).
            var tag = "latest"
            /// Served over TLS (the HTTPS fault server).
            var tls = false
            var kind: String
            /// Every one must appear in the row's error.
            var expected: [String]
        }

        static let escapeMessage = "\u{1B}]0;pwned\u{07}\u{1B}[2Jgone\u{9B}31m"

        @Test("every hostile answer ends one row with a clear error; the worker survives them all")
        func table() async throws {
            let sandbox = try await WorkerSandbox.make("hostile")
            let layout = try await FixtureImages.layout("multilayer")
            // The TLS server serves another image: its blobs are in no other row's way (the
            // rows share one content store, and a blob present is never fetched again).
            let tlsLayout = try await FixtureImages.layout("multilayer-zstd")
            let layer = try #require(try await FixtureImages.expected("multilayer-zstd").layerDigests?.first)

            // The canary: where hostile realms and redirects point. It must never see a
            // gopher payload nor Basic credentials.
            let canary = try await FaultServer.start(layout: layout)
            defer { Task { await canary.stop() } }
            let c = canary.hostPort
            let gopher = "gopher://\(c)/_GET%20/__canary%20HTTP/1.0%0D%0A%0D%0A"

            func repo(_ name: String) -> String { "/v2/hostile/\(name)/" }
            let plainFaults: [Fault] = [
                .challenge(realm: gopher, path: repo("realm-gopher")),
                .challenge(realm: "file:///etc/passwd", path: repo("realm-file")),
                .challenge(realm: "http://localhost:\(c.split(separator: ":")[1])/__token", path: repo("realm-other-host")),
                .retryAfter(text: "99999999999999999", path: repo("retry-huge")),
                .retryAfter(text: "-1", path: repo("retry-negative")),
                .retryAfter(text: "soon, maybe", path: repo("retry-garbage")),
                .header("Content-Length", "9223372036854775807", path: repo("cl-huge") + "blobs/"),
                .header("Content-Length", "99999999999999999999", path: repo("cl-overflow") + "blobs/"),
                .header("Content-Length", "9223372036854775807", path: repo("cl-manifest") + "manifests/sha256:"),
                .redirect(to: gopher, path: repo("redirect-gopher") + "blobs/"),
                .redirect(to: "ftp://\(c)/blob", path: repo("redirect-ftp") + "blobs/"),
                .redirect(to: "file:///etc/passwd", path: repo("redirect-file") + "blobs/"),
                // GET only: a HEAD answer has no body to carry the registry's message.
                .status(400, code: "INJECTED", message: Self.escapeMessage, path: repo("error-escape"), method: "GET"),
            ]
            let variants = [
                ManifestVariant(tag: "size-int64max", target: "layer0", sizeText: "9223372036854775807"),
                ManifestVariant(tag: "size-negative", target: "layer1", sizeText: "-1"),
                ManifestVariant(tag: "size-absurd", target: "layer0", sizeText: "1e300"),
                ManifestVariant(tag: "size-tebibyte", target: "layer2", sizeText: "1099511627777"),
                ManifestVariant(tag: "config-huge", target: "config", sizeText: "9000000"),
                // The same sizes in other bytes: a manifest digest no other row has fetched.
                ManifestVariant(tag: "fresh", target: "layer0", sizeText: " \(try await layer0Size(layout))"),
                ManifestVariant(tag: "fresh2", target: "layer0", sizeText: "  \(try await layer0Size(layout))"),
            ]
            let plain = try await FaultServer.start(layout: layout, faults: plainFaults, variants: variants)
            defer { Task { await plain.stop() } }
            let tlsFaults: [Fault] = [
                .challenge(realm: "http://\(c)/__token", path: repo("tls-realm-http")),
                .redirect(to: "http://\(c)/v2/x/blobs/\(layer)", path: repo("tls-downgrade") + "blobs/\(layer)"),
            ]
            let tls = try await FaultServer.start(layout: tlsLayout, faults: tlsFaults, tls: true)
            defer { Task { await tls.stop() } }
            let caPath = try #require(tls.caPath)

            let permanent = "permanent"
            let transient = "transient"
            let rows: [Row] = [
                Row(name: "realm-gopher", kind: permanent, expected: ["refused token realm gopher://", "not http or https"]),
                Row(name: "realm-file", kind: permanent, expected: ["refused token realm file:///etc/passwd"]),
                Row(name: "realm-other-host", kind: permanent, expected: ["refused token realm http://localhost:", "clear text"]),
                Row(name: "retry-huge", kind: transient, expected: ["429", "retry after 300 s", "gave up after 1 attempts"]),
                Row(name: "retry-negative", kind: transient, expected: ["429", "gave up after 1 attempts"]),
                Row(name: "retry-garbage", kind: transient, expected: ["429", "gave up after 1 attempts"]),
                Row(name: "size-int64max", tag: "size-int64max", kind: permanent, expected: ["invalid manifest", "9223372036854775807"]),
                Row(name: "size-negative", tag: "size-negative", kind: permanent, expected: ["invalid manifest", "size -1"]),
                Row(name: "size-absurd", tag: "size-absurd", kind: permanent, expected: ["does not parse"]),
                Row(name: "size-tebibyte", tag: "size-tebibyte", kind: permanent, expected: ["invalid manifest", "1099511627777"]),
                Row(name: "config-huge", tag: "config-huge", kind: permanent, expected: ["config", "larger than 8388608 bytes"]),
                Row(name: "cl-huge", kind: permanent, expected: ["larger than"]),
                Row(name: "cl-overflow", kind: permanent, expected: ["larger than"]),
                Row(name: "cl-manifest", tag: "fresh", kind: permanent, expected: ["/manifests/sha256:", "larger than 4194304 bytes"]),
                Row(name: "redirect-gopher", kind: permanent, expected: ["curl 1", "only http and https"]),
                Row(name: "redirect-ftp", kind: permanent, expected: ["curl 1", "only http and https"]),
                Row(name: "redirect-file", kind: permanent, expected: ["curl 1", "only http and https"]),
                Row(name: "error-escape", tag: "fresh2", kind: permanent, expected: ["400 INJECTED", #"\x1b]0;pwned\x07\x1b[2Jgone\u{009b}31m"#]),
                Row(name: "tls-realm-http", tls: true, kind: permanent, expected: ["refused token realm http://", "must be https"]),
                Row(name: "tls-downgrade", tls: true, kind: permanent, expected: ["curl 1", "only http and https"]),
            ]

            // Credentials for the plain server: the other-host realm must not receive them.
            let dockerConfig = sandbox.directory.appendingPathComponent("docker")
            try FileManager.default.createDirectory(at: dockerConfig, withIntermediateDirectories: true)
            let config = #"{"auths": {"\#(plain.hostPort)": {"username": "tenant", "password": "tenant-secret"}}}"#
            try Data(config.utf8).write(to: dockerConfig.appendingPathComponent("config.json"))

            try await sandbox.setSetting(.maxAttempts, 1)
            try await sandbox.insert(rows.map { row in
                ("\(row.tls ? tls.hostPort : plain.hostPort)/hostile/\(row.name):\(row.tag)", .ext4)
            })
            let worker = try sandbox.startWorker(
                ["--exit-when-idle", "--concurrency", "4"],
                environment: [
                    "DOCKER_CONFIG": dockerConfig.path, "IMAGE_WORKER_REGISTRY_CA": "\(tls.hostPort)=\(caPath)",
                ])
            let status = try await worker.wait(seconds: 240)
            #expect(status == 0, "the worker died: \(worker.stderr.suffix(3000))")

            let recorded = try await sandbox.rows("SELECT name, status, error_kind, error FROM images ORDER BY id")
            #expect(recorded.count == rows.count)
            for (row, record) in zip(rows, recorded) {
                let error = record["error"] ?? ""
                #expect(record["status"] == "failed", "\(row.name): \(record)")
                #expect(record["error_kind"] == row.kind, "\(row.name): \(record)")
                for part in row.expected { #expect(error.contains(part), "\(row.name): \(error)") }
                #expect(!error.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, "\(row.name)")
            }
            #expect(!worker.stderr.contains("\u{1B}]0;pwned"))

            let seen = try await canary.requests()
            #expect(!seen.contains { $0.path.contains("__canary") }, "a gopher payload arrived: \(seen)")
            #expect(!seen.contains { $0.authorization == "Basic" }, "credentials crossed to another host: \(seen)")
            #expect(!seen.contains { $0.path.hasSuffix(layer) }, "a TLS registry's blob was fetched over http: \(seen)")
        }

        /// The size the `latest` manifest of `layout` gives its first layer.
        func layer0Size(_ layout: URL) async throws -> Int64 {
            struct Entry: Decodable { let digest: String }
            struct Top: Decodable { let manifests: [Entry] }
            let top = try JSONDecoder().decode(Top.self, from: Data(contentsOf: layout.appendingPathComponent("index.json")))
            let digest = try #require(top.manifests.first?.digest.split(separator: ":").last)
            let manifest = try JSONDecoder().decode(
                Manifest.self, from: Data(contentsOf: layout.appendingPathComponent("blobs/sha256/\(digest)")))
            return try #require(manifest.layers.first?.size)
        }
    }
}
