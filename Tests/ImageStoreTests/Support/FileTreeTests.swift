import Foundation
import TestSupport
import Testing

@testable import ImageStore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("File trees: removal of any depth, private directories")
struct FileTreeTests {
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory(prefix: "filetree") }

    /// Builds `<root>/<name>/` holding a chain of directories whose relative path, with the
    /// file at its bottom, is `length` bytes, beside ordinary files, a symlink out of the tree
    /// and an unreadable directory. Made by descriptor: the full path is longer than PATH_MAX.
    func makeDeepTree(at root: URL, length: Int) throws {
        var descriptor = open(root.path, O_RDONLY | O_DIRECTORY)
        try #require(descriptor >= 0)
        let component = String(repeating: "d", count: 200)
        var used = 0
        while used + 201 + 40 <= length {
            #expect(mkdirat(descriptor, component, 0o755) == 0)
            let file = openat(descriptor, "f", O_CREAT | O_WRONLY, 0o644)
            close(file)
            let next = openat(descriptor, component, O_RDONLY | O_DIRECTORY)
            close(descriptor)
            descriptor = next
            try #require(descriptor >= 0)
            used += 201
        }
        let leaf = String(repeating: "x", count: length - used)
        let file = openat(descriptor, leaf, O_CREAT | O_WRONLY, 0o644)
        #expect(file >= 0, "errno \(errno)")
        close(file)
        close(descriptor)
        #expect(used + leaf.utf8.count == length)
    }

    @Test("a scratch tree with a 4,061-byte entry path is removed by removeScratch, symlinks not followed")
    func deepScratch() async throws {
        defer { directory.remove() }
        let layout = DataLayout(root: directory.url.appendingPathComponent("data"))
        let queue = try await ImageQueue.open(path: directory.url.appendingPathComponent("q.db").path)
        let manager = try ImageManager(layout: layout, queue: queue)
        let rootfs = layout.scratch.appendingPathComponent("build-1-1/rootfs")
        try FileManager.default.createDirectory(at: rootfs, withIntermediateDirectories: true)
        try makeDeepTree(at: rootfs, length: 4_061)
        let outside = directory.url.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: outside.appendingPathComponent("keep"))
        try FileManager.default.createSymbolicLink(at: rootfs.appendingPathComponent("out"), withDestinationURL: outside)
        let locked = rootfs.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked.appendingPathComponent("inner"), withIntermediateDirectories: true)
        chmod(locked.path, 0)

        try manager.removeScratch(named: "build-1-1")
        #expect(!FileManager.default.fileExists(atPath: layout.scratch.appendingPathComponent("build-1-1").path))
        #expect(FileManager.default.fileExists(atPath: outside.appendingPathComponent("keep").path))
    }

    @Test("remove: a missing path is no error; a plain file and a symlink go")
    func removeSimple() throws {
        defer { directory.remove() }
        #expect(try FileTree.remove(directory.url.appendingPathComponent("absent").path) == false)
        let file = directory.url.appendingPathComponent("file")
        try Data().write(to: file)
        #expect(try FileTree.remove(file.path))
        let link = directory.url.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: directory.url.path)
        #expect(try FileTree.remove(link.path))
        #expect(FileManager.default.fileExists(atPath: directory.url.path))
    }

    @Test("private directories: created 0700, tightened from 0755, refused when a symlink or another user's")
    func privateDirectories() throws {
        defer { directory.remove() }
        let fresh = directory.url.appendingPathComponent("a/b")
        try FileTree.makePrivateDirectory(fresh.path, followSymlinks: false)
        #expect(Self.mode(fresh.path) == 0o700)
        chmod(fresh.path, 0o755)
        try FileTree.makePrivateDirectory(fresh.path, followSymlinks: false)
        #expect(Self.mode(fresh.path) == 0o700)

        let planted = directory.url.appendingPathComponent("planted")
        try FileManager.default.createSymbolicLink(atPath: planted.path, withDestinationPath: fresh.path)
        #expect(throws: FileSystemError.self) { try FileTree.makePrivateDirectory(planted.path, followSymlinks: false) }
        try FileTree.makePrivateDirectory(planted.path, followSymlinks: true)

        let foreign = directory.url.appendingPathComponent("foreign")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        chown(foreign.path, 65534, 65534)
        #expect(throws: FileSystemError.self) { try FileTree.makePrivateDirectory(foreign.path, followSymlinks: false) }
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0o7777 }
        return info.st_mode & 0o7777
    }
}
