import Testing

@testable import ImageStore

@Suite("FilesystemModel")
struct FilesystemModelTests {
    @Test("removing the last link of a file queues its content; a hardlink keeps it")
    func hardlinkKeepsContent() {
        let model = FilesystemModel()
        let file = model.insert(
            Inode(kind: .regular, permissions: 0o644, size: 5, content: ContentID(rawValue: 7)), named: Array("a".utf8),
            in: .root)
        model.link(file, in: .root, named: Array("b".utf8))
        #expect(model[file].linkCount == 2)
        model.remove(Array("a".utf8), in: .root)
        #expect(model.takeReleasedContents().isEmpty)
        model.remove(Array("b".utf8), in: .root)
        #expect(model.takeReleasedContents() == [ContentID(rawValue: 7)])
        #expect(model.inodeCount == 1)
    }

    @Test("removing a directory frees its subtree; children are listed sorted by bytes")
    func subtree() {
        let model = FilesystemModel()
        let dir = model.insert(Inode(kind: .directory, permissions: 0o755), named: Array("d".utf8), in: .root)
        for name in ["z", "a", "\u{e9}", "B"] {
            model.insert(
                Inode(kind: .regular, permissions: 0o600, size: 1, content: ContentID(rawValue: UInt32(name.utf8.first ?? 0))),
                named: Array(name.utf8), in: dir)
        }
        #expect(model.children(of: dir).map { String(decoding: $0.name, as: UTF8.self) } == ["B", "a", "z", "\u{e9}"])
        model.remove(Array("d".utf8), in: .root)
        #expect(model.takeReleasedContents().count == 4)
        #expect(model.inodeCount == 1)
        #expect(model.lookup(Array("d".utf8), in: .root) == nil)
    }

    @Test("timestamps normalize negative nanoseconds and keep pre-1970 seconds")
    func timestamps() {
        #expect(Timestamp(seconds: -1, nanoseconds: -1) == Timestamp(seconds: -2, nanoseconds: 999_999_999))
        #expect(Timestamp(seconds: 5, nanoseconds: 1_500_000_000) == Timestamp(seconds: 6, nanoseconds: 500_000_000))
    }
}
