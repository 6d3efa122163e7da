import Foundation
import Testing

@testable import ImageStore

#if canImport(Glibc)
    import Glibc
#endif

/// SIGPIPE must never end a process of ours: a registry, a scraper or a helper that hangs up
/// is an error of one call. (A SIGPIPE ended this test process once, mid-run, exit signal 13.)
@Suite("Broken pipes")
struct BrokenPipesTests {
    /// Whether SIGPIPE is ignored, from the kernel's view of this process.
    static func sigpipeIgnored() throws -> Bool {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("SigIgn:") })
        let mask = try #require(UInt64(line.dropFirst("SigIgn:".count).trimmingCharacters(in: .whitespaces), radix: 16))
        return mask & (1 << (UInt64(SIGPIPE) - 1)) != 0
    }

    @Test("the registry client ignores SIGPIPE before its first transfer; a write to a pipe without reader is EPIPE")
    func writeToClosedPipe() throws {
        _ = try CurlHandle(url: "http://127.0.0.1:9/")
        #expect(try Self.sigpipeIgnored())
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        close(ends[0])
        let byte: [UInt8] = [1]
        let written = byte.withUnsafeBytes { write(ends[1], $0.baseAddress, 1) }
        let code = errno
        close(ends[1])
        #expect(written == -1 && code == EPIPE)
    }
}
