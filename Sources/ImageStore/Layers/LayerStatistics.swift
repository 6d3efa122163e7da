/// What applying layers did.
public struct LayerStatistics: Sendable, Equatable {
    /// Layers applied.
    public var layers = 0
    /// Tar entries read, whiteouts included.
    public var entries = 0
    /// Declared bytes of regular files written.
    public var bytes: Int64 = 0
    /// Bytes of data blocks stored (``bytes`` without the holes of sparse files); counted by
    /// the model builder only.
    public var dataBytes: Int64 = 0
    /// Whiteout and opaque markers processed.
    public var whiteouts = 0

    public init() {}
}
