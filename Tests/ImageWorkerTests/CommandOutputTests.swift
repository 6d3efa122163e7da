import Foundation
import ImageStore
import Testing

/// The CLI's output contract: JSON keys, exit codes, the image_status view.
@Suite final class CommandOutputTests: Sendable {
    let directory: URL
    let database: String

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("command-output-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        database = directory.appendingPathComponent("queue.db").path
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    @discardableResult
    func worker(_ arguments: [String]) async throws -> String {
        try await Child.run(Child.imageWorker, arguments + ["--db", database], in: directory)
    }

    @Test("list --json is one array whose keys are the image_status columns")
    func listKeys() async throws {
        try await worker(["enqueue", "alpine:3.18", "--format", "cpio", "--priority", "3"])
        let data = Data(try await worker(["list", "--json"]).utf8)
        let rows = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        let columns = try await Child.run(
            "/usr/bin/sqlite3", [database, "SELECT name FROM pragma_table_info('image_status') ORDER BY name"],
            in: directory)
        #expect(rows.count == 1)
        #expect(rows.first?.keys.sorted() == columns.split(separator: "\n").map(String.init))
        #expect(rows.first?["format"] as? String == "cpio")
    }

    @Test("status REF prints every image_status column in the view's order; enqueue does not queue an image twice")
    func statusFields() async throws {
        let first = try await worker(["enqueue", "alpine:3.18"])
        #expect(first == "enqueued alpine:3.18 as 1 (ext4, priority 0), queue position 1\n")
        let again = try await worker(["enqueue", "docker.io/library/alpine:3.18"])
        #expect(again == "already pending: alpine:3.18 as 1 (ext4), queue position 1\n")
        let text = try await worker(["status", "alpine:3.18"])
        let keys = text.split(separator: "\n").compactMap { line in
            line.range(of: " = ").map { line[..<$0.lowerBound].trimmingCharacters(in: .whitespaces) }
        }
        let columns = try await Child.run(
            "/usr/bin/sqlite3", [database, "SELECT name FROM pragma_table_info('image_status') ORDER BY cid"],
            in: directory)
        #expect(keys == columns.split(separator: "\n").map(String.init))
        #expect(text.contains("normalized_name = docker.io/library/alpine:3.18\n"))
        #expect(text.contains("queue_position = 1\n"))
    }

    @Test("enqueue --target-host pins the row; a pinned and an unpinned request are two rows; a bad host id is a usage error")
    func targetHost() async throws {
        let pinned = try await worker(["enqueue", "alpine:3.18", "--target-host", "hv-07", "--json"])
        let row = try #require(try JSONSerialization.jsonObject(with: Data(pinned.utf8)) as? [String: Any])
        #expect(row["target_host"] as? String == "hv-07" && row["artifact_host"] is NSNull)
        #expect(try await worker(["enqueue", "alpine:3.18", "--target-host", "hv-07"]).hasPrefix("already pending:"))
        #expect(try await worker(["enqueue", "alpine:3.18"]).hasPrefix("enqueued alpine:3.18 as 2 "))
        let stored = try await Child.run(
            "/usr/bin/sqlite3", [database, "SELECT id || ' ' || coalesce(target_host, 'any') FROM images ORDER BY id"],
            in: directory)
        #expect(stored == "1 hv-07\n2 any\n")
        for bad in [["--target-host", ""], ["--target-host", "two words"], ["--host-id", "a\tb"]] {
            let child = try Child(Child.imageWorker, ["enqueue", "alpine:3.18", "--db", database] + bad, in: directory)
            #expect(try await child.wait() == 64, "\(bad): \(child.stderr)")
        }
    }

    @Test("list and status print names and errors other services wrote with control characters escaped")
    func escapedTable() async throws {
        try await worker(["migrate"])
        try await Child.run(
            "/usr/bin/sqlite3",
            [database, "INSERT INTO images(name, status, error) VALUES ('x' || char(27) || ']0;pwned' || char(7), "
                + "'failed', 'boom' || char(27) || '[2J' || char(13) || 'fake line')"], in: directory)
        for arguments in [["list"], ["status", "x\u{1B}]0;pwned\u{07}"]] {
            let output = try await worker(arguments)
            #expect(output.contains(#"x\x1b]0;pwned\x07"#), "\(arguments): \(output)")
            #expect(output.contains(#"boom\x1b[2J\x0dfake line"#), "\(arguments): \(output)")
            #expect(!output.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x0D })
        }
    }

    @Test("exit codes: 1 for an unknown image, 64 for a bad format")
    func exitCodes() async throws {
        let unknown = try Child(Child.imageWorker, ["status", "nope", "--db", database], in: directory)
        #expect(try await unknown.wait() == 1)
        #expect(unknown.stderr == "image-worker: image nope: not in the queue; enqueue it first\n")
        let usage = try Child(Child.imageWorker, ["enqueue", "x", "--format", "zip", "--db", database], in: directory)
        #expect(try await usage.wait() == 64)
    }

    @Test("sqlite3 -box shows queue_position after mixed priorities and a claim")
    func imageStatusView() async throws {
        for (name, priority) in [("low", "0"), ("high", "9"), ("mid", "4"), ("low2", "0")] {
            try await worker(["enqueue", name, "--priority", priority])
        }
        let queue = try await ImageQueue.open(path: database)
        #expect(try await queue.claim(workerID: "t:1:1", now: ImageQueue.nowMilliseconds())?.name == "high")
        let box = try await Child.run(
            "/usr/bin/sqlite3",
            ["-box", database, "SELECT name, status, queue_position FROM image_status ORDER BY id"],
            in: directory)
        let cells = box.split(separator: "\n").map { line in
            line.split(separator: "│").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }.filter { $0.count == 3 }
        #expect(
            cells == [
                ["name", "status", "queue_position"], ["low", "pending", "2"], ["mid", "pending", "1"],
                ["low2", "pending", "3"],
            ])
        #expect(box.split(separator: "\n").contains { $0.contains("high") && $0.contains("pulling") })
    }
}
