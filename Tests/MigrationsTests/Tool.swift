import Foundation

/// Runs a command-line tool (the `sqlite3` CLI) to completion.
enum Tool {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `executable` with `arguments`; stdout on success.
    /// - Throws: `Failure` with stderr when the exit status is not 0.
    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        let directory = FileManager.default.temporaryDirectory
        let out = directory.appendingPathComponent("tool-\(UUID().uuidString).out")
        let err = directory.appendingPathComponent("tool-\(UUID().uuidString).err")
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let stdout = try String(contentsOf: out, encoding: .utf8)
        guard status == 0 else {
            let stderr = try String(contentsOf: err, encoding: .utf8)
            throw Failure(description: "\(executable) \(arguments) exited \(status): \(stderr)")
        }
        return stdout
    }

    /// `sqlite3 -json DB SQL`, decoded into rows.
    static func sqliteJSON(_ database: String, _ sql: String) async throws -> [[String: Any]] {
        let text = try await run("/usr/bin/sqlite3", ["-json", database, sql])
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return [] }
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] ?? []
    }
}
