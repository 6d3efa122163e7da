import Foundation
import TestSupport
import Testing

@testable import ImageStore

#if canImport(Glibc)
    import Glibc
#endif

/// Temp files are judged by their writer's flock, never by a pid.
@Suite("Content-store temp files: the writer's lock decides")
struct TemporaryFileTests {
    let directory: TemporaryDirectory
    let store: ContentStore

    init() throws {
        directory = try TemporaryDirectory(prefix: "tmpfiles")
        store = try ContentStore(root: directory.url.appendingPathComponent("oci"))
    }

    func temporary(_ name: String, mode: mode_t) -> String {
        let path = store.root.appendingPathComponent("blobs/\(name)").path
        _ = FileManager.default.createFile(atPath: path, contents: Data("x".utf8), attributes: [.posixPermissions: mode])
        return path
    }

    @Test("a live writer's file stays, an unlocked 0600 file goes, a 0000 file (created, lock not yet taken) stays")
    func deadWriters() throws {
        defer { directory.remove() }
        let writer = try store.makeWriter()
        try Data("live".utf8).withUnsafeBytes { try writer.write($0) }
        // Our own pid: kill(pid, 0) would call this writer alive; the lock says dead.
        let dead = temporary(".tmp-\(getpid())-dead", mode: 0o600)
        let opening = temporary(".tmp-1-opening", mode: 0)
        let result = store.removeTemporaryFilesOfDeadWriters()
        #expect(result.removed == 1 && result.failures.isEmpty)
        #expect(FileManager.default.fileExists(atPath: writer.temporaryPath))
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: opening))
        #expect(Self.mode(writer.temporaryPath) == 0o600)
        writer.discard()
        #expect(!FileManager.default.fileExists(atPath: writer.temporaryPath))
    }

    @Test("by age: an old unlocked file goes, an old file a writer still holds stays")
    func byAge() throws {
        defer { directory.remove() }
        let writer = try store.makeWriter()
        let old = temporary(".tmp-1-old", mode: 0)
        let past = Date(timeIntervalSinceNow: -7200)
        for path in [old, writer.temporaryPath] {
            try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: path)
        }
        let result = store.removeTemporaryFiles(olderThan: Date(timeIntervalSinceNow: -3600))
        #expect(result.removed == 1)
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: writer.temporaryPath))
        writer.discard()
    }

    @Test("committed blobs are 0600")
    func blobMode() async throws {
        defer { directory.remove() }
        let digest = try await store.write(Data("{}".utf8))
        #expect(Self.mode(store.path(of: digest).path) == 0o600)
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0o7777 }
        return info.st_mode & 0o7777
    }
}
