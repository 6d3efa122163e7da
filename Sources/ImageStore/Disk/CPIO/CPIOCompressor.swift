import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `gzip -n` or `zstd -T0` over the bare archive, synchronously, on the writer's thread.
///
/// ``DiskImageWriter/finish(model:)`` is synchronous (it runs on a ``BlockingExecutor``
/// thread), so the tool is started with `posix_spawn` and awaited with `waitpid` there rather
/// than through swift-subprocess. Its stdin is the spool file positioned at the archive, its
/// stdout the output file, its stderr a second unlinked scratch file whose tail goes into
/// ``DiskError/toolFailed(tool:command:status:stderrTail:)``. Both tools are deterministic for
/// the same input: `gzip -n` stores no name or time; zstd's multi-threaded output does not
/// depend on the number of cores.
enum CPIOCompressor {
    /// The command line for `compression`, or `nil` for none.
    static func arguments(for compression: ExportOptions.Compression) -> [String]? {
        switch compression {
        case .none: return nil
        case .gzip: return ["gzip", "-n", "-c", "-q"]
        case .zstd: return ["zstd", "-q", "-c", "-T0"]
        }
    }

    /// Compresses what `input` holds from `offset` to its end into `output` (from its start).
    ///
    /// - Throws: ``DiskError/toolUnavailable(tool:message:)``,
    ///   ``DiskError/toolFailed(tool:command:status:stderrTail:)``, ``DiskError/io(path:operation:errno:)``.
    static func run(
        _ arguments: [String], input: SpoolFile, offset: Int64, output: Int32, outputPath: String
    ) throws(DiskError) {
        guard let tool = arguments.first else { return }
        guard let executable = locate(tool) else {
            throw .toolUnavailable(tool: tool, message: "not found on PATH (\(ExternalTool.searchPath))")
        }
        let errors = try SpoolFile(beside: outputPath)
        guard lseek(input.descriptor, off_t(offset), SEEK_SET) >= 0 else {
            throw .io(path: input.path, operation: "seek", errno: errno)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input.descriptor, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, errors.descriptor, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments.dropFirst()).map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        // The tool starts with SIGPIPE at its default action, whatever this process set.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard spawned == 0 else {
            throw .toolUnavailable(tool: tool, message: String(cString: strerror(spawned)))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw .io(path: executable, operation: "wait for", errno: errno) }
        }
        // The wait status: low 7 bits the terminating signal (0 for an exit), then the exit code.
        let signal = status & 0x7F
        let code = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
        guard code == 0 else {
            throw .toolFailed(
                tool: tool, command: arguments.joined(separator: " "), status: code,
                stderrTail: ExternalTool.tail(tail(of: errors)))
        }
    }

    /// The first executable `name` on ``ExternalTool/searchPath``.
    private static func locate(_ name: String) -> String? {
        for directory in ExternalTool.searchPath.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// The last 4 KiB the tool wrote to stderr.
    private static func tail(of file: SpoolFile) -> String {
        let size = lseek(file.descriptor, 0, SEEK_END)
        guard size > 0 else { return "" }
        let count = Int(min(size, 4096))
        var bytes = [UInt8](repeating: 0, count: count)
        let read = bytes.withUnsafeMutableBytes { pread(file.descriptor, $0.baseAddress, count, off_t(size) - off_t(count)) }
        return String(decoding: bytes.prefix(max(0, read)), as: UTF8.self)
    }
}
