import Foundation
import Subprocess

/// Runs one of the filesystem tools (mkfs.ext4, resize2fs, e2fsck, mkfs.erofs, gzip, zstd).
///
/// The tool is found on `PATH` (plus /sbin and /usr/sbin, where e2fsprogs lives). Its stdin is
/// /dev/null, stdout is discarded and stderr is kept for the error. When the calling task is
/// cancelled the tool gets SIGTERM, then SIGKILL after a grace period, and the call throws
/// `CancellationError`.
struct ExternalTool: Sendable {
    /// The program name, e.g. `mkfs.ext4`.
    let name: String

    /// How long a tool may take to exit after SIGTERM before it gets SIGKILL.
    static let gracePeriod: Duration = .seconds(5)
    /// Lines of stderr kept in ``DiskError/toolFailed(tool:command:status:stderrTail:)``.
    static let stderrTailLines = 8

    /// Runs the tool to completion.
    ///
    /// - Parameters:
    ///   - arguments: the arguments after the program name.
    ///   - environment: variables set on top of the inherited environment.
    /// - Returns: what the tool wrote to stdout (at most 1 MiB).
    /// - Throws: ``DiskError/toolFailed(tool:command:status:stderrTail:)`` on a non-zero exit,
    ///   ``DiskError/toolUnavailable(tool:message:)`` if it cannot start, `CancellationError`.
    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: ExternalTool.gracePeriod)]
        var overrides: [Environment.Key: String?] = ["PATH": ExternalTool.searchPath]
        for (key, value) in environment {
            if let key = Environment.Key(rawValue: key) { overrides[key] = value }
        }
        let result: ExecutionResult<Void, StringOutput<UTF8>, StringOutput<UTF8>>
        do {
            result = try await Subprocess.run(
                .name(name), arguments: Arguments(arguments), environment: .inherit.updating(overrides),
                platformOptions: options, output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
        } catch let error as SubprocessError {
            try Task.checkCancellation()
            throw DiskError.toolUnavailable(tool: name, message: "\(error)")
        }
        try Task.checkCancellation()
        let status: Int32
        switch result.terminationStatus {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        }
        guard status == 0 else {
            throw DiskError.toolFailed(
                tool: name, command: commandLine(arguments), status: status,
                stderrTail: ExternalTool.tail(result.standardError))
        }
        return result.standardOutput
    }

    /// The command as a person would type it, for error messages.
    func commandLine(_ arguments: [String]) -> String {
        ([name] + arguments).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
    }

    /// The last ``stderrTailLines`` non-empty lines of `text`.
    static func tail(_ text: String) -> String {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        return lines.filter { !$0.isEmpty }.suffix(stderrTailLines).joined(separator: "\n")
    }

    /// `PATH` with the sbin directories appended: e2fsprogs installs there and a non-login
    /// shell's `PATH` often lacks them.
    static var searchPath: String {
        let inherited = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return inherited + ":/usr/local/sbin:/usr/sbin:/sbin"
    }
}
