import ArgumentParser
import Foundation
import ImageStore

/// `image-worker bench-queue`: claim throughput of N real processes against a fresh temp
/// SQLite database, or against the PostgreSQL database `--db postgres://…` names (which must
/// hold no images rows; the bench leaves its rows there).
struct BenchQueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-queue",
        abstract: "Measure claims/second of N worker processes on a fresh temporary SQLite database, or on --db postgres://… (empty).")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Child processes claiming at once.")
    var processes = 4

    @Option(help: "Rows to enqueue and claim.")
    var jobs = 20_000

    func validate() throws {
        guard (1...64).contains(processes) else { throw ValidationError("--processes must be 1...64") }
        // Every job may be in flight at once: max_in_flight is raised to --jobs, at most the schema allows.
        guard (1...SettingKey.maxInFlight.validRange.upperBound).contains(jobs) else {
            throw ValidationError("--jobs must be 1...\(SettingKey.maxInFlight.validRange.upperBound)")
        }
    }

    func run() async throws {
        let result = try await reportingErrors { try await measure() }
        if global.json {
            try Output.json(result)
        } else {
            Output.line(
                "\(result.processes) processes, \(result.jobs) jobs: \(result.claimsPerSecond) claims/s "
                    + "(\(result.elapsedMs) ms), claimed twice: \(result.claimedTwice), ready: \(result.ready), "
                    + "children failed: \(result.childrenFailed)")
        }
        if result.claimedTwice > 0 || result.ready != jobs || result.childrenFailed > 0 { throw ExitCode(1) }
    }

    private func measure() async throws -> BenchResult {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("image-worker-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var database = directory.appendingPathComponent("bench.db").path
        if case .postgres = DatabaseLocation(global.databasePath) { database = global.databasePath }
        let queue = try await ImageQueue.open(path: database)
        if case .postgres = DatabaseLocation(database), try await queue.countsByStatus().values.reduce(0, +) > 0 {
            throw ValidationError("bench-queue --db \(queue.path): the database must hold no images rows")
        }
        try await queue.setSetting(.maxInFlight, to: jobs)
        _ = try await queue.enqueue(names: (0..<jobs).map { "bench/image-\($0)" })

        var outputs: [URL] = []
        var failed = 0
        try await withThrowingTaskGroup(of: Int32.self) { group in
            for index in 0..<processes {
                let output = directory.appendingPathComponent("child-\(index).out")
                outputs.append(output)
                let arguments = ["queue-drill", "--db", database, "--worker-id", "bench:\(index)"]
                group.addTask { try await Self.runChild(arguments: arguments, stdout: output) }
            }
            for try await status in group where status != 0 { failed += 1 }
        }

        var ids: [Int] = []
        var first = Int.max
        var last = 0
        for output in outputs {
            for line in try String(contentsOf: output, encoding: .utf8).split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.first == "claimed", fields.count == 3, let id = Int(fields[1]) { ids.append(id) }
                if fields.first == "done", fields.count == 4, let start = Int(fields[2]), let end = Int(fields[3]),
                    start > 0
                {
                    first = min(first, start)
                    last = max(last, end)
                }
            }
        }
        let elapsed = max(last - first, 1)
        return BenchResult(
            processes: processes, jobs: jobs, claims: ids.count, claimedTwice: ids.count - Set(ids).count,
            ready: try await queue.count(status: "ready"), elapsedMs: elapsed,
            claimsPerSecond: ids.count * 1000 / elapsed, childrenFailed: failed)
    }

    /// Runs this binary with `arguments`, stdout to `stdout`, stderr inherited.
    /// - Returns: the exit status.
    private static func runChild(arguments: [String], stdout: URL) async throws -> Int32 {
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        let handle = try FileHandle(forWritingTo: stdout)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executablePath)
        process.arguments = arguments
        process.standardOutput = handle
        return try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
    }

    /// This executable, resolved through /proc/self/exe.
    private static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// `bench-queue --json` output.
private struct BenchResult: Encodable {
    let processes: Int
    let jobs: Int
    let claims: Int
    let claimedTwice: Int
    let ready: Int
    let elapsedMs: Int
    let claimsPerSecond: Int
    let childrenFailed: Int

    enum CodingKeys: String, CodingKey {
        case processes, jobs, claims, ready
        case claimedTwice = "claimed_twice"
        case elapsedMs = "elapsed_ms"
        case claimsPerSecond = "claims_per_second"
        case childrenFailed = "children_failed"
    }
}
