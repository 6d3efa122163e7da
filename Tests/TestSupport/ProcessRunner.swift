import Foundation

/// The outcome of one finished command.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: Data
    public let stderr: Data

    /// Standard output as UTF-8 text, trailing newline removed.
    public var output: String {
        String(decoding: stdout, as: UTF8.self).trimmingCharacters(in: .newlines)
    }
}

/// Runs commands for tests; output goes through temporary files, so no pipe can fill up.
public enum ProcessRunner {
    /// The Python 3 that has python3-cryptography: Debian's, else the first on PATH.
    public static let python: String =
        FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"

    /// Runs `executable` (a path, or a name looked up on PATH) and waits for it to exit.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil
    ) async throws -> ProcessResult {
        let scratch = try TemporaryDirectory(prefix: "run")
        defer { scratch.remove() }
        let outURL = scratch.url.appendingPathComponent("stdout")
        let errURL = scratch.url.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        try out.close()
        try err.close()
        return ProcessResult(
            status: status, stdout: try Data(contentsOf: outURL), stderr: try Data(contentsOf: errURL))
    }

    /// Runs a command and throws `TestSupportError.commandFailed` unless it exits 0.
    @discardableResult
    public static func check(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil
    ) async throws -> ProcessResult {
        let result = try await run(executable, arguments, environment: environment)
        guard result.status == 0 else {
            throw TestSupportError.commandFailed(
                command: ([executable] + arguments).joined(separator: " "), status: result.status,
                stderrTail: String(String(decoding: result.stderr, as: UTF8.self).suffix(800)))
        }
        return result
    }

    /// The lowercase hex SHA-256 of a file, by `sha256sum`.
    public static func sha256(of file: URL) async throws -> String {
        let result = try await check("sha256sum", [file.path])
        return String(result.output.prefix(64))
    }
}
