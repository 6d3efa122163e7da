/// One file of the merged filesystem: metadata, and for regular files a handle on its data.
///
/// Several directory entries may name the same inode (hardlinks); ``linkCount`` counts them.
/// A directory's children are in ``FilesystemModel``, not here.
public struct Inode: Sendable, Equatable {
    public var kind: InodeKind
    /// Permission bits including setuid, setgid and sticky (`0o7777`), without the type bits.
    public var permissions: UInt16
    public var uid: UInt32
    public var gid: UInt32
    /// Modification time; writers also use it for atime and ctime (tar carries only mtime
    /// reliably), so the output does not depend on when it was built.
    public var modificationTime: Timestamp
    /// Extended attributes, sorted by name, names unique.
    public var xattrs: [Xattr]
    /// Device numbers of character and block devices; zero otherwise.
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// The target of a symlink, exactly as written; empty otherwise.
    public var symlinkTarget: [UInt8]
    /// Apparent size of a regular file (holes included); for a symlink, the target's length;
    /// zero for the other kinds (writers compute directory sizes).
    public var size: Int64
    /// Where the sink stored a regular file's bytes; `nil` for every other kind.
    public var content: ContentID?
    /// Directory entries naming this inode. For a directory: 1 (its entry in the parent).
    /// Writers add `.` / `..` references themselves as their format needs.
    public internal(set) var linkCount: UInt32

    /// An inode with the given metadata and no links yet (``FilesystemModel/link(_:in:named:)`` adds them).
    public init(
        kind: InodeKind, permissions: UInt16, uid: UInt32 = 0, gid: UInt32 = 0,
        modificationTime: Timestamp = .epoch, xattrs: [Xattr] = [], deviceMajor: UInt32 = 0,
        deviceMinor: UInt32 = 0, symlinkTarget: [UInt8] = [], size: Int64 = 0, content: ContentID? = nil
    ) {
        self.kind = kind
        self.permissions = permissions & 0o7777
        self.uid = uid
        self.gid = gid
        self.modificationTime = modificationTime
        self.xattrs = Inode.normalized(xattrs)
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
        self.symlinkTarget = symlinkTarget
        self.size = kind == .symlink ? Int64(symlinkTarget.count) : size
        self.content = content
        self.linkCount = 0
    }

    /// The full POSIX mode: type bits and permissions.
    public var mode: UInt32 { kind.modeType | UInt32(permissions) }

    /// Sorted by name; for a repeated name the last value wins (as a later pax record would).
    static func normalized(_ xattrs: [Xattr]) -> [Xattr] {
        var byName: [String: [UInt8]] = [:]
        for xattr in xattrs { byName[xattr.name] = xattr.value }
        return byName.map { Xattr(name: $0.key, value: $0.value) }.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }
}
