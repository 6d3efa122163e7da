import Foundation
import ImageStore
import TestSupport
import Testing

extension EndToEnd {
    /// Odd and hostile layer streams (Tests/Fixtures/tarstreams/make-tarstreams.py) as one-layer
    /// images, imported and then built by a real worker and by `image-worker export`: each row
    /// ends ready, or failed with an error that says what is wrong (issue 10 items 3, 23-25).
    @Suite("Odd layer streams") struct OddLayers {
        struct Case: Sendable, CustomTestStringConvertible {
            let blob: String
            var wrongDiffID = false
            /// `nil`: ready; else the row fails permanently with an error containing this.
            let failure: String?
            var testDescription: String { blob + (wrongDiffID ? " (wrong diff_id)" : "") }
        }

        static let table: [Case] = [
            Case(blob: "pax-two-headers", failure: "entry \"two\": malformed tar header (Ignoring malformed pax"),
            Case(blob: "pax-nul-in-xattr-name", failure: "entry \"f\": malformed tar header (Invalid pax extended attributes)"),
            Case(blob: "negative-size", failure: "entry \"neg\": malformed tar header (Tar entry has negative size)"),
            Case(blob: "pax-utf8-name", failure: nil),
            Case(blob: "empty-bytes", failure: nil),
            Case(blob: "empty-gzip", failure: nil),
            Case(blob: "empty-zstd", failure: nil),
            Case(blob: "not-tar-zip", failure: "not a tar archive: libarchive reads it as ZIP"),
            Case(blob: "not-tar-gzip-text", failure: "not a tar archive: after gzip decompression, HTML"),
            Case(blob: "gzip-multi-member", failure: nil),
            Case(blob: "zstd-multi-frame", failure: nil),
            Case(blob: "gzip-trailing-garbage", failure: "trailing garbage"),
            Case(blob: "gzip-single", wrongDiffID: true, failure: "diff_id mismatch"),
            Case(blob: "plain", wrongDiffID: true, failure: "diff_id mismatch"),
        ]

        static let script = FixtureImages.fixturesDirectory.appendingPathComponent("tarstreams/make-tarstreams.py")

        /// Writes the case's layout, imports it as `offline/odd-N:v1`, returns that name and the
        /// manifest digest.
        static func importCase(_ testCase: Case, index: Int, into sandbox: WorkerSandbox) async throws -> String {
            let layout = sandbox.directory.appendingPathComponent("layout-\(index)")
            var arguments = [script.path, "--layout", layout.path, testCase.blob]
            if testCase.wrongDiffID { arguments.insert("--wrong-diff-id", at: 1) }
            try await ProcessRunner.check(ProcessRunner.python, arguments)
            let name = "offline/odd-\(index):v1"
            try await sandbox.imageWorker(["import", layout.path, "--name", name])
            return name
        }

        @Test("a worker makes each odd layer ready or fails its row with a clear permanent error")
        func worker() async throws {
            let sandbox = try await WorkerSandbox.make("odd-layers")
            var names: [String] = []
            for (index, testCase) in Self.table.enumerated() {
                names.append(try await Self.importCase(testCase, index: index, into: sandbox))
            }
            try await sandbox.insert(names.map { ($0, .cpio) })
            try await sandbox.drain(seconds: 180)
            let rows = try await sandbox.rows("SELECT id, status, error_kind, error FROM images ORDER BY id")
            try #require(rows.count == Self.table.count)
            for (testCase, row) in zip(Self.table, rows) {
                if let failure = testCase.failure {
                    #expect(row["status"] == "failed" && row["error_kind"] == "permanent", "\(testCase): \(row)")
                    #expect(row["error"]?.contains(failure) == true, "\(testCase): \(row)")
                    #expect(row["error"]?.contains("error -") == false, "\(testCase): \(row)")
                } else {
                    #expect(row["status"] == "ready" && row["error"] == "", "\(testCase): \(row)")
                }
            }
            let wrong = try #require(rows.last?["error"])
            // Both digests are named: what the layer is, and what the config says it should be.
            #expect(wrong.components(separatedBy: "sha256:").count - 1 >= 3, "\(wrong)")
        }

        @Test("export refuses a layer whose diff_id is wrong and one that is not a tar, exit 1; an empty layer exports")
        func export() async throws {
            let sandbox = try await WorkerSandbox.make("odd-export")
            let cases = [
                Case(blob: "gzip-single", wrongDiffID: true, failure: "diff_id mismatch"),
                Case(blob: "not-tar-zip", failure: "not a tar archive"),
                Case(blob: "empty-zstd", failure: nil),
            ]
            for (index, testCase) in cases.enumerated() {
                let name = try await Self.importCase(testCase, index: index, into: sandbox)
                let output = sandbox.directory.appendingPathComponent("out-\(index).ext4")
                let run = try await ProcessRunner.run(
                    Child.imageWorker, ["export", name, "--format", "ext4", "-o", output.path, "--data-dir", sandbox.data.path])
                let stderr = String(decoding: run.stderr, as: UTF8.self)
                if let failure = testCase.failure {
                    #expect(run.status == 1, "\(testCase): \(stderr)")
                    #expect(stderr.contains(failure), "\(testCase): \(stderr)")
                    #expect(!FileManager.default.fileExists(atPath: output.path), "\(testCase): a disk was published")
                } else {
                    #expect(run.status == 0, "\(testCase): \(stderr)")
                    #expect(FileManager.default.fileExists(atPath: output.path))
                }
            }
        }
    }
}
