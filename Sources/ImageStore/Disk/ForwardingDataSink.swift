/// A ``FileDataSink`` that passes the chosen ``store(size:chunks:)`` calls on to another sink
/// and drops the rest, for copying a few files of lower layers into a per-layer disk.
///
/// Calls are counted as ``CountingDataSink`` counts them, so over the same layers the call
/// numbered `n` stores what that sink called content `n`. Releases are ignored: a content
/// wanted is one the lower layers' final tree still holds, which no later layer released.
final class ForwardingDataSink: FileDataSink {
    private let target: any FileDataSink
    private let wanted: Set<ContentID>
    private var calls: UInt32 = 0
    /// The target's content id of each wanted call, by the call's number.
    private(set) var forwarded: [ContentID: ContentID] = [:]

    init(wanted: Set<ContentID>, to target: any FileDataSink) {
        self.wanted = wanted
        self.target = target
    }

    func store(
        size: Int64, chunks: ((_ offset: Int64, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> ContentID {
        let own = ContentID(rawValue: calls)
        calls += 1
        if wanted.contains(own) { forwarded[own] = try target.store(size: size, chunks: chunks) }
        return own
    }

    func release(_ content: ContentID) throws {}
}
