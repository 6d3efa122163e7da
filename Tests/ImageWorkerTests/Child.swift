import Foundation

/// A child process with stdout and stderr in files (no pipe to fill up), for driving the
/// built `image-worker` and the `sqlite3` CLI.
///
/// The `image-worker` binary is found, in order: `$IMAGE_WORKER_BIN`; next to the test bundle
/// (`swift test` runs `.build/<config>/image-workerPackageTests.xctest`, and `image-worker` is
/// built into the same directory; `swift build --show-bin-path` prints it); or
/// `<repo>/.build/debug/image-worker`.
final class Child {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL
    private var status: Int32?

    static var imageWorker: String {
        if let path = ProcessInfo.processInfo.environment["IMAGE_WORKER_BIN"], !path.isEmpty { return path }
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let sibling = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("image-worker")
            if FileManager.default.isExecutableFile(atPath: sibling.path) { return sibling.path }
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/image-worker").path
    }

    /// Starts `executable` with `arguments`, output into files in `directory`; `environment`
    /// is set on top of this process's.
    init(_ executable: String, _ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws {
        let stem = directory.appendingPathComponent("child-\(UUID().uuidString)")
        stdoutURL = stem.appendingPathExtension("out")
        stderrURL = stem.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Polls `condition` every 10 ms until it holds or `seconds` pass.
    /// - Throws: `Failure` naming `what` at the deadline.
    static func waitUntil(_ what: String, seconds: Double = 60, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try await !condition() {
            guard Date() < deadline else { throw Failure(description: "timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits for the process to exit (killing it at the deadline).
    /// - Returns: the exit status.
    @discardableResult
    func wait(seconds: Double = 60) async throws -> Int32 {
        do {
            try await Self.waitUntil("\(process.arguments ?? []) to exit", seconds: seconds) { !process.isRunning }
        } catch {
            process.terminate()
            throw error
        }
        return process.terminationStatus
    }

    /// Runs `executable` to completion.
    /// - Returns: stdout.
    /// - Throws: `Failure` with stderr when it exits non-zero.
    @discardableResult
    static func run(
        _ executable: String, _ arguments: [String], in directory: URL, environment: [String: String] = [:]
    ) async throws -> String {
        let child = try Child(executable, arguments, in: directory, environment: environment)
        let status = try await child.wait()
        guard status == 0 else {
            throw Failure(description: "\(executable) \(arguments) exited \(status): \(child.stderr)")
        }
        return child.stdout
    }
}
