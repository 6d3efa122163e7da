/// The index of an inode in a ``FilesystemModel``; ``root`` is the root directory.
///
/// Not an on-disk inode number: each writer numbers inodes in its own deterministic order.
public struct InodeID: Sendable, Hashable, Comparable {
    public var rawValue: UInt32

    /// The root directory of every model.
    public static let root = InodeID(rawValue: 0)

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    public static func < (lhs: InodeID, rhs: InodeID) -> Bool { lhs.rawValue < rhs.rawValue }
}
