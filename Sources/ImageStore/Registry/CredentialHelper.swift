import Foundation
import Subprocess

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// One `docker-credential-<name>` program, spoken to with Docker's credential-helper protocol.
///
/// `docker-credential-<name> get` reads the server (`host[:port]`, or
/// `https://index.docker.io/v1/` for Docker Hub) on stdin and writes
/// `{"ServerURL": …, "Username": …, "Secret": …}` on stdout, exit status 0. A helper that has
/// nothing for the server exits non-zero with `credentials not found` on stdout: that is no
/// credential, not an error. The answer's `Secret` goes straight into a ``Secret``; stdout is
/// never quoted in an error (it may hold the secret), stderr's last line is. A helper gets
/// ``timeout`` to answer, enforced by timeout(1); it runs through swift-subprocess, so no thread
/// of the cooperative pool waits for it.
public struct CredentialHelper: Sendable {
    /// The part after `docker-credential-`, e.g. `pass`, `ecr-login`.
    public let name: String
    /// The colon-separated directories searched for the program.
    public let searchPath: String

    /// How long a helper may take to answer.
    static let timeout: Duration = .seconds(30)
    /// coreutils' timeout(1), which enforces ``timeout`` on the helper.
    static let timeoutProgram = "/usr/bin/timeout"
    /// How long the helper run may take in all before this process gives up on it even under
    /// timeout(1) (a process whose threads are all busy may see the answer late).
    static let backstop: Duration = .seconds(300)
    /// `PATH` when the loading environment had none.
    public static let defaultSearchPath = "/usr/local/bin:/usr/bin:/bin"

    /// Creates a helper reference; nothing runs until ``get(server:registry:)``.
    public init(name: String, searchPath: String) {
        self.name = name
        self.searchPath = searchPath
    }

    /// `docker-credential-<name>`.
    public var program: String { "docker-credential-" + name }

    /// Whether `name` can be a helper name: no path separators, no leading dash.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix("-")
            && name.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-_.".unicodeScalars.contains(scalar))
            }
    }

    /// Asks the helper for the credential of `server`.
    ///
    /// - Parameter registry: the registry as in the image reference, for the error.
    /// - Returns: the credential, or `nil` when the helper has none for `server`.
    /// - Throws: `RegistryError.credentialHelperFailed` when the program is not on the search
    ///   path, fails, times out or answers something else than the protocol's JSON (or an
    ///   identity token, which image-worker does not use).
    func get(server: String, registry: String) async throws(RegistryError) -> RegistryCredential? {
        func failure(_ reason: String) -> RegistryError {
            .credentialHelperFailed(helper: program, registry: registry, reason: reason)
        }
        guard let executable = locate() else { throw failure("\(program) is not on PATH (\(searchPath))") }
        // The helper's stdin is written before it starts (``pipe(holding:)``), so nothing here
        // writes to a pipe it may have closed; SIGPIPE stays ignored for whatever else this
        // process writes to, as the registry client that asks for the credential does.
        BrokenPipes.ignore()
        let stdin: FileDescriptor
        do {
            stdin = try Self.pipe(holding: server + "\n")
        } catch {
            throw failure("cannot make its stdin: \(error)")
        }
        let result: ExecutionResult<Void, StringOutput<UTF8>, StringOutput<UTF8>>
        // The helper runs under timeout(1), which ends it (and its process group) after
        // ``timeout`` of wall time whatever this process is doing: a timer of our own would race
        // the helper's answer, and lose it when every thread of this process is busy. The task
        // timer stays as a backstop for a system without timeout(1) or one that cannot end it.
        let guarded = FileManager.default.isExecutableFile(atPath: Self.timeoutProgram)
        let seconds = Self.timeout.components.seconds
        let (command, arguments) =
            guarded
            ? (Self.timeoutProgram, ["--kill-after=2", "\(seconds)", executable, "get"]) : (executable, ["get"])
        do {
            typealias Finished = ExecutionResult<Void, StringOutput<UTF8>, StringOutput<UTF8>>
            result = try await withThrowingTaskGroup(of: Finished?.self) { group in
                group.addTask {
                    var options = PlatformOptions()
                    options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(2))]
                    return try await Subprocess.run(
                        .path(FilePath(command)), arguments: Arguments(arguments), platformOptions: options,
                        input: .fileDescriptor(stdin, closeAfterSpawningProcess: true), output: .string(limit: 64 << 10),
                        error: .string(limit: 16 << 10))
                }
                group.addTask {
                    try await Task.sleep(for: guarded ? Self.backstop : Self.timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let finished = first else {
                    throw failure("no answer within \(seconds) s")
                }
                return finished
            }
            // timeout(1) exits 124 when it ended the helper with SIGTERM, 137 with SIGKILL.
            if guarded, case .exited(let status) = result.terminationStatus, status == 124 || status == 137 {
                throw failure("no answer within \(seconds) s")
            }
        } catch let error as RegistryError {
            throw error
        } catch {
            throw failure("cannot run \(executable): \(error)")
        }
        let stdout = result.standardOutput
        guard case .exited(0) = result.terminationStatus else {
            if stdout.lowercased().contains("credentials not found") { return nil }
            let lastLine = result.standardError.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            throw failure("get exited with \(result.terminationStatus)\(lastLine.isEmpty ? "" : ": " + lastLine)")
        }
        struct Answer: Decodable {
            var username: String?
            var secret: String?

            enum CodingKeys: String, CodingKey {
                case username = "Username"
                case secret = "Secret"
            }
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(stdout.utf8)),
            let username = answer.username, let secret = answer.secret
        else {
            throw failure("the answer is not json with Username and Secret")
        }
        if username.isEmpty && secret.isEmpty { return nil }
        guard username != "<token>" else {
            throw failure("it answered an identity token, which image-worker does not support; store a username and password")
        }
        return RegistryCredential(username: username, password: secret)
    }

    /// The read end of a pipe that already holds `text` and whose write end is closed: the
    /// helper's stdin, with no writer left running. (swift-subprocess 1.0.2 stops the whole
    /// process when writing a `.string` input fails, as it does when a helper exits without
    /// reading its stdin.) `text` is a server name, far below a pipe's 64 KiB.
    private static func pipe(holding text: String) throws -> FileDescriptor {
        let bytes = Array(text.utf8)
        guard bytes.count <= 4096 else { throw Errno.argListTooLong }
        let (reader, writer) = try FileDescriptor.pipe()
        defer { try? writer.close() }
        // Not inherited by other children started meanwhile.
        _ = fcntl(reader.rawValue, F_SETFD, FD_CLOEXEC)
        do {
            _ = try writer.writeAll(bytes)
        } catch {
            try? reader.close()
            throw error
        }
        return reader
    }

    /// The program's path on ``searchPath``, if it is there and executable.
    func locate() -> String? {
        for directory in searchPath.split(separator: ":") where directory.hasPrefix("/") {
            let candidate = directory + "/" + program
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
