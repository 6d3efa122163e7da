import Foundation

@testable import ImageStore

/// A model built straight through the ``FilesystemModel`` API and a writer's sink (an
/// ``EXT4Writer`` unless another ``DiskImageWriter`` is given), with what every regular file must
/// read back as, for e2fsck, mount and extract read-back checks.
final class EXT4TestImage {
    /// The data chunks of one stored file (holes in between) and its size.
    struct Content {
        var size: Int64
        var chunks: [(offset: Int64, bytes: [UInt8])]
    }

    static let testOptions = EXT4WriterOptions(
        uuid: Array(0..<16), hashSeed: Array(repeating: 0x5A, count: 16), volumeName: Array("test".utf8))

    let path: URL
    let model = FilesystemModel()
    let writer: any DiskImageWriter
    private(set) var contents: [ContentID: Content] = [:]

    init(path: URL, options: EXT4WriterOptions = EXT4TestImage.testOptions) throws {
        self.path = path
        writer = try EXT4Writer(path: path.path, options: options)
    }

    /// A model whose files go through `writer` (written to `path`).
    init(path: URL, writer: any DiskImageWriter) {
        self.path = path
        self.writer = writer
    }

    /// An image written by an ``EROFSWriter``.
    convenience init(path: URL, erofs options: EROFSWriterOptions) throws {
        self.init(path: path, writer: try EROFSWriter(path: path.path, options: options))
    }

    @discardableResult
    func directory(
        _ name: String, in parent: InodeID = .root, permissions: UInt16 = 0o755, uid: UInt32 = 0, gid: UInt32 = 0,
        time: Timestamp = .epoch, xattrs: [Xattr] = []
    ) -> InodeID {
        directory(Array(name.utf8), in: parent, permissions: permissions, uid: uid, gid: gid, time: time, xattrs: xattrs)
    }

    @discardableResult
    func directory(
        _ name: [UInt8], in parent: InodeID = .root, permissions: UInt16 = 0o755, uid: UInt32 = 0, gid: UInt32 = 0,
        time: Timestamp = .epoch, xattrs: [Xattr] = []
    ) -> InodeID {
        model.insert(
            Inode(kind: .directory, permissions: permissions, uid: uid, gid: gid, modificationTime: time, xattrs: xattrs),
            named: name, in: parent)
    }

    /// Stores a file whose data is `chunks` (offset order, holes between) and apparent `size`.
    @discardableResult
    func file(
        _ name: [UInt8], in parent: InodeID = .root, chunks: [(offset: Int64, bytes: [UInt8])], size: Int64,
        permissions: UInt16 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0, time: Timestamp = .epoch, xattrs: [Xattr] = []
    ) throws -> InodeID {
        let content = try writer.sink.store(size: size) { body in
            for chunk in chunks {
                try chunk.bytes.withUnsafeBytes { try body(chunk.offset, $0) }
            }
        }
        contents[content] = Content(size: size, chunks: chunks)
        return model.insert(
            Inode(
                kind: .regular, permissions: permissions, uid: uid, gid: gid, modificationTime: time, xattrs: xattrs,
                size: size, content: content), named: name, in: parent)
    }

    @discardableResult
    func file(
        _ name: String, in parent: InodeID = .root, bytes: [UInt8], permissions: UInt16 = 0o644, uid: UInt32 = 0,
        gid: UInt32 = 0, time: Timestamp = .epoch, xattrs: [Xattr] = []
    ) throws -> InodeID {
        try file(
            Array(name.utf8), in: parent, chunks: bytes.isEmpty ? [] : [(Int64(0), bytes)], size: Int64(bytes.count),
            permissions: permissions, uid: uid, gid: gid, time: time, xattrs: xattrs)
    }

    @discardableResult
    func special(
        _ name: [UInt8], kind: InodeKind, in parent: InodeID = .root, permissions: UInt16 = 0o644, uid: UInt32 = 0,
        gid: UInt32 = 0, time: Timestamp = .epoch, major: UInt32 = 0, minor: UInt32 = 0, target: [UInt8] = [],
        xattrs: [Xattr] = []
    ) -> InodeID {
        model.insert(
            Inode(
                kind: kind, permissions: permissions, uid: uid, gid: gid, modificationTime: time, xattrs: xattrs,
                deviceMajor: major, deviceMinor: minor, symlinkTarget: target), named: name, in: parent)
    }

    func hardlink(_ inode: InodeID, named name: [UInt8], in parent: InodeID = .root) {
        model.link(inode, in: parent, named: name)
    }

    /// Removes an entry as a whiteout would, handing released contents to the sink.
    func remove(_ name: [UInt8], in parent: InodeID = .root) throws {
        model.remove(name, in: parent)
        for content in model.takeReleasedContents() {
            try writer.sink.release(content)
            contents[content] = nil
        }
    }

    func finish() throws {
        try writer.finish(model: model)
    }
}
