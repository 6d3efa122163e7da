import Foundation

/// A long-running Python helper from Tests/Fixtures (registry.py, faultserver.py).
///
/// The helper gets a pipe as standard input and stops when it reaches EOF, on SIGTERM, or
/// when this process is gone, so a crashed test leaves nothing running. It signals readiness
/// by writing a JSON info file, which `launch` polls for under a deadline.
final class BackgroundHelper: Sendable {
    let name: String
    let scratch: TemporaryDirectory
    private let process: Process
    private let stdin: Pipe

    private init(name: String, scratch: TemporaryDirectory, process: Process, stdin: Pipe) {
        self.name = name
        self.scratch = scratch
        self.process = process
        self.stdin = stdin
    }

    /// Starts `script` with its arguments plus `--info FILE` and returns it with the decoded info.
    /// `arguments` may name paths under the scratch directory, which is made first and
    /// handed to `makeArguments`; the helper deletes it on exit (`--remove-on-exit`).
    static func launch<Info: Decodable>(
        script: String, as: Info.Type, deadline: Duration = .seconds(180),
        arguments makeArguments: (URL) -> [String]
    ) async throws -> (BackgroundHelper, Info) {
        let scratch = try TemporaryDirectory(prefix: script.replacingOccurrences(of: ".py", with: ""))
        let arguments = makeArguments(scratch.url) + ["--remove-on-exit", scratch.url.path]
        let info = scratch.url.appendingPathComponent("info.json")
        let logURL = scratch.url.appendingPathComponent("helper.log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        let stdin = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [ProcessRunner.python, FixtureImages.fixturesDirectory.appendingPathComponent(script).path]
            + arguments + ["--info", info.path]
        process.standardInput = stdin
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try log.close()
        let helper = BackgroundHelper(name: script, scratch: scratch, process: process, stdin: stdin)
        let clock = ContinuousClock()
        let end = clock.now + deadline
        // The info file is read before the deadline is checked: a test process whose threads
        // were all busy may resume this loop only after the deadline, with the helper long ready.
        while true {
            if let data = FileManager.default.contents(atPath: info.path) {
                do {
                    return (helper, try JSONDecoder().decode(Info.self, from: data))
                } catch {
                    await helper.stop()
                    throw TestSupportError.badOutput(helper: script, detail: "\(error)")
                }
            }
            if !process.isRunning || clock.now >= end { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let exited = !process.isRunning
        let tail = helper.logTail()
        await helper.stop()
        let how = exited ? "exited with status \(process.terminationStatus)" : "still running after \(deadline)"
        throw TestSupportError.notReady(helper: script, logTail: "(\(how)) " + tail)
    }

    /// The last part of the helper's combined output.
    func logTail() -> String {
        let data = FileManager.default.contents(atPath: scratch.url.appendingPathComponent("helper.log").path)
        return String(String(decoding: data ?? Data(), as: UTF8.self).suffix(1500))
    }

    /// Closes standard input, sends SIGTERM, waits for exit (up to 20 s), removes the scratch dir.
    func stop() async {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        let clock = ContinuousClock()
        let end = clock.now + .seconds(20)
        while process.isRunning && clock.now < end {
            try? await Task.sleep(for: .milliseconds(20))
        }
        scratch.remove()
    }
}
