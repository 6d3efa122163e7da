/// A handle for the stored bytes of one regular file, given out by a ``FileDataSink``.
///
/// The model never sees file data: it keeps this handle, and the writer that owns the sink
/// knows where (and how: raw, compressed, spooled) those bytes lie in its output.
public struct ContentID: Sendable, Hashable {
    public var rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }
}
