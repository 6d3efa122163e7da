/// The merged filesystem of an image, in memory: the one thing every disk writer reads.
///
/// A tree of directory entries over a table of ``Inode``s, built by applying layers (or by a
/// directory walk). Names are raw bytes (never `/`, never empty, never `.` or `..`), so names
/// that are not UTF-8 survive. File data is not here: regular files hold a ``ContentID`` of the
/// writer's ``FileDataSink``. Removing the last entry of an inode frees it (a directory with
/// its whole subtree) and queues its content in ``releasedContents`` for the sink.
///
/// Lookups are hash lookups and ``children(of:)`` sorts once per call, so building and writing
/// are linear (n log n for sorting) in the number of entries, for any directory size.
/// Not thread-safe: one builder on one thread owns it, then hands it to one writer.
public final class FilesystemModel {
    private var inodes: [Inode?]
    /// Children of each directory inode, by name.
    private var entries: [InodeID: [[UInt8]: InodeID]]
    private var freeSlots: [InodeID] = []
    /// Contents whose last inode was removed, waiting to be released to the sink.
    public private(set) var releasedContents: [ContentID] = []
    /// Inodes freed since the last ``takeFreedInodes()``: a builder that keeps state per
    /// inode id drops it before the id is handed out again.
    private var freedInodes: [InodeID] = []

    /// A model holding only the root directory, with the given metadata.
    public init(root: Inode = Inode(kind: .directory, permissions: 0o755)) {
        var root = root
        root.kind = .directory
        root.linkCount = 1
        inodes = [root]
        entries = [.root: [:]]
    }

    // MARK: - Reading

    /// The inode `id`; a removed id is a programmer error.
    public subscript(id: InodeID) -> Inode {
        get {
            guard let inode = inodes[Int(id.rawValue)] else { preconditionFailure("inode \(id.rawValue) was removed") }
            return inode
        }
        set {
            precondition(inodes[Int(id.rawValue)] != nil, "inode \(id.rawValue) was removed")
            var value = newValue
            value.linkCount = inodes[Int(id.rawValue)]?.linkCount ?? 0
            value.xattrs = Inode.normalized(value.xattrs)
            inodes[Int(id.rawValue)] = value
        }
    }

    /// The child `name` of directory `directory`, if any.
    public func lookup(_ name: [UInt8], in directory: InodeID) -> InodeID? {
        entries[directory]?[name]
    }

    /// The entries of a directory sorted by name (bytewise), the order every writer emits.
    public func children(of directory: InodeID) -> [(name: [UInt8], inode: InodeID)] {
        guard let table = entries[directory] else { return [] }
        return table.map { (name: $0.key, inode: $0.value) }
            .sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }

    /// Number of entries of a directory (0 for other kinds).
    public func childCount(of directory: InodeID) -> Int {
        entries[directory]?.count ?? 0
    }

    /// Number of live inodes, the root included.
    public var inodeCount: Int { inodes.count - freeSlots.count }

    /// Every live inode id in ascending order (the order of creation, slots reused).
    public var inodeIDs: [InodeID] {
        inodes.indices.compactMap { inodes[$0] == nil ? nil : InodeID(rawValue: UInt32($0)) }
    }

    /// Visits every directory entry depth-first, parents before children, children by name;
    /// `body` gets the parent, the entry's name and its inode (a hardlinked inode once per entry).
    public func walk(_ body: (_ parent: InodeID, _ name: [UInt8], _ inode: InodeID) throws -> Void) rethrows {
        var stack: [InodeID] = [.root]
        while let directory = stack.popLast() {
            let sorted = children(of: directory)
            for child in sorted { try body(directory, child.name, child.inode) }
            for child in sorted.reversed() where self[child.inode].kind == .directory {
                stack.append(child.inode)
            }
        }
    }

    // MARK: - Changing

    /// Adds an inode with no entries yet; give it one with ``link(_:in:named:)``.
    public func add(_ inode: Inode) -> InodeID {
        var inode = inode
        inode.linkCount = 0
        inode.xattrs = Inode.normalized(inode.xattrs)
        let id: InodeID
        if let slot = freeSlots.popLast() {
            id = slot
            inodes[Int(slot.rawValue)] = inode
        } else {
            id = InodeID(rawValue: UInt32(inodes.count))
            inodes.append(inode)
        }
        if inode.kind == .directory { entries[id] = [:] }
        return id
    }

    /// Makes `name` in `directory` an entry for `inode`. The name must be free (call
    /// ``remove(_:in:)`` first); a directory may have only one entry (no directory hardlinks).
    public func link(_ inode: InodeID, in directory: InodeID, named name: [UInt8]) {
        precondition(entries[directory] != nil, "link into a non-directory")
        precondition(entries[directory]?[name] == nil, "link over an existing entry")
        precondition(self[inode].kind != .directory || self[inode].linkCount == 0, "directory hardlink")
        entries[directory]?[name] = inode
        inodes[Int(inode.rawValue)]?.linkCount += 1
    }

    /// Adds `inode` and links it as `name` in `directory`: the common case of one new entry.
    @discardableResult
    public func insert(_ inode: Inode, named name: [UInt8], in directory: InodeID) -> InodeID {
        let id = add(inode)
        link(id, in: directory, named: name)
        return id
    }

    /// Removes the entry `name` of `directory`, if present. An inode left with no entry is
    /// freed; a freed directory frees its subtree. Returns whether an entry was removed.
    @discardableResult
    public func remove(_ name: [UInt8], in directory: InodeID) -> Bool {
        guard let child = entries[directory]?.removeValue(forKey: name) else { return false }
        unlink(child)
        return true
    }

    /// Removes every entry of `directory`, keeping the directory itself (an opaque whiteout).
    public func removeAllChildren(of directory: InodeID) {
        guard let table = entries[directory] else { return }
        entries[directory] = [:]
        for child in table.values { unlink(child) }
    }

    /// Hands the queued released contents to the caller (normally straight to the sink).
    public func takeReleasedContents() -> [ContentID] {
        defer { releasedContents = [] }
        return releasedContents
    }

    /// The inodes freed since the last call. Their ids are reused by the next ``add(_:)``, so a
    /// builder keeping per-inode state takes them right after each removal.
    public func takeFreedInodes() -> [InodeID] {
        defer { freedInodes = [] }
        return freedInodes
    }

    private func unlink(_ first: InodeID) {
        var pending = [first]
        while let id = pending.popLast() {
            guard var inode = inodes[Int(id.rawValue)] else { continue }
            inode.linkCount -= 1
            if inode.linkCount > 0 {
                inodes[Int(id.rawValue)] = inode
                continue
            }
            if let content = inode.content { releasedContents.append(content) }
            if let table = entries.removeValue(forKey: id) { pending.append(contentsOf: table.values) }
            inodes[Int(id.rawValue)] = nil
            freeSlots.append(id)
            freedInodes.append(id)
        }
    }
}
