/// A ``FileDataSink`` that keeps nothing: content ids count the ``store(size:chunks:)`` calls
/// (0, 1, 2…), so a second build of the same layers through a ``ForwardingDataSink`` can tell
/// which call stores which content. The data is never read (the archive skips it).
final class CountingDataSink: FileDataSink {
    private(set) var stored: UInt32 = 0

    func store(
        size: Int64, chunks: ((_ offset: Int64, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> ContentID {
        defer { stored += 1 }
        return ContentID(rawValue: stored)
    }

    func release(_ content: ContentID) throws {}
}
