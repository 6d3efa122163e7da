@testable import ImageStore

/// A ``FileDataSink`` that keeps every stored file's data chunks in memory, for model tests.
final class MemorySink: FileDataSink {
    struct Stored {
        var size: Int64
        var chunks: [(offset: Int64, bytes: [UInt8])]
    }

    private(set) var contents: [ContentID: Stored] = [:]
    private(set) var released: [ContentID] = []
    private var next: UInt32 = 0

    func store(
        size: Int64,
        chunks: ((_ offset: Int64, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> ContentID {
        var stored = Stored(size: size, chunks: [])
        try chunks { offset, bytes in stored.chunks.append((offset, Array(bytes))) }
        let id = ContentID(rawValue: next)
        next += 1
        contents[id] = stored
        return id
    }

    func release(_ content: ContentID) throws {
        precondition(contents[content] != nil, "released twice or never stored")
        contents[content] = nil
        released.append(content)
    }

    /// The file's bytes with holes as zeros.
    func bytes(_ content: ContentID) -> [UInt8] {
        guard let stored = contents[content] else { return [] }
        var result = [UInt8](repeating: 0, count: Int(stored.size))
        for chunk in stored.chunks {
            result.replaceSubrange(Int(chunk.offset)..<(Int(chunk.offset) + chunk.bytes.count), with: chunk.bytes)
        }
        return result
    }

    /// Bytes of data chunks held (holes excluded).
    var dataBytes: Int { contents.values.reduce(0) { $0 + $1.chunks.reduce(0) { $0 + $1.bytes.count } } }
}
