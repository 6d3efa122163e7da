import Foundation

/// Runs a tool for a test and returns its output; a non-zero exit throws with stderr.
enum ShellCommand {
    struct Failure: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var output: String
        var description: String { "\(command) exited \(status): \(output)" }
    }

    /// Result of a run that may fail.
    struct Outcome {
        var status: Int32
        var output: String  // stdout and stderr, interleaved
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String], in directory: URL? = nil, stdin: URL? = nil) throws -> String {
        let outcome = try attempt(tool, arguments, in: directory, stdin: stdin)
        guard outcome.status == 0 else {
            throw Failure(command: ([tool] + arguments).joined(separator: " "), status: outcome.status, output: outcome.output)
        }
        return outcome.output
    }

    static func attempt(_ tool: String, _ arguments: [String], in directory: URL? = nil, stdin: URL? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = (environment["PATH"] ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin"
        process.environment = environment
        if let directory { process.currentDirectoryURL = directory }
        if let stdin { process.standardInput = try FileHandle(forReadingFrom: stdin) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}
