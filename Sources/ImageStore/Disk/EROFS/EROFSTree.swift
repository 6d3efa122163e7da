/// The model in erofs order: every inode once, at its first entry (root first, then depth
/// first, children by name), each directory's entries with `.` and `..` sorted in, and every
/// per-inode check done once with the entry's path at hand.
///
/// Linear in the number of entries (one sort per directory, in the model), any directory size.
struct EROFSTree {
    struct Directory {
        /// Index of the directory in ``order``.
        var index: Int
        var entries: [EROFSDirectoryBlocks.Entry]
        var subdirectories: Int
    }

    /// The model inode of each position; position 0 is the root.
    var order: [InodeID] = [.root]
    var directories: [Directory] = []
    /// Index in ``directories`` by position (`-1` for other kinds).
    var directoryIndex: [Int32] = []
    /// Encoded xattrs by position (empty for none).
    var xattrs: [EROFSXattrBody] = []

    init(model: FilesystemModel) throws(DiskError) {
        var positions: [UInt32: Int] = [InodeID.root.rawValue: 0]
        positions.reserveCapacity(model.inodeCount)
        order.reserveCapacity(model.inodeCount)
        xattrs.reserveCapacity(model.inodeCount)
        xattrs.append(try EROFSTree.check(model[.root], path: []))
        var stack: [(id: InodeID, index: Int, parent: Int, path: [UInt8])] = [(.root, 0, 0, [])]
        let dot: [UInt8] = [UInt8(ascii: ".")]
        let dotDot: [UInt8] = [UInt8(ascii: "."), UInt8(ascii: ".")]
        while let directory = stack.popLast() {
            let children = model.children(of: directory.id)
            var entries: [EROFSDirectoryBlocks.Entry] = []
            entries.reserveCapacity(children.count + 2)
            var subdirectories: [(id: InodeID, index: Int, parent: Int, path: [UInt8])] = []
            for child in children {
                let inode = model[child.inode]
                let path = directory.path + [UInt8(ascii: "/")] + child.name
                guard child.name.count <= EROFSGeometry.maxNameLength else { throw .nameTooLongForErofs(path: EROFSTree.text(path)) }
                let index: Int
                if let known = positions[child.inode.rawValue] {
                    index = known
                } else {
                    index = order.count
                    positions[child.inode.rawValue] = index
                    order.append(child.inode)
                    xattrs.append(try EROFSTree.check(inode, path: path))
                }
                entries.append(.init(name: child.name, target: index, fileType: EROFSDirectoryBlocks.fileType(inode.kind)))
                if inode.kind == .directory { subdirectories.append((child.inode, index, directory.index, path)) }
            }
            // "." < ". " < ".." : each goes to its own place among the names.
            let dotAt = entries.firstIndex { !$0.name.lexicographicallyPrecedes(dot) } ?? entries.count
            entries.insert(.init(name: dot, target: directory.index, fileType: 2), at: dotAt)
            let dotDotAt = entries[(dotAt + 1)...].firstIndex { !$0.name.lexicographicallyPrecedes(dotDot) } ?? entries.count
            entries.insert(.init(name: dotDot, target: directory.parent, fileType: 2), at: dotDotAt)
            directories.append(Directory(index: directory.index, entries: entries, subdirectories: subdirectories.count))
            stack.append(contentsOf: subdirectories.reversed())
        }
        directoryIndex = Array(repeating: -1, count: order.count)
        for (index, directory) in directories.enumerated() { directoryIndex[directory.index] = Int32(index) }
    }

    /// The checks of one inode that need its path for a clear error; its encoded xattrs.
    private static func check(_ inode: Inode, path: [UInt8]) throws(DiskError) -> EROFSXattrBody {
        switch inode.kind {
        case .symlink:
            let target = inode.symlinkTarget
            if target.isEmpty || target.count >= EROFSGeometry.blockSize || target.contains(0) {
                throw .invalidSymlinkForErofs(path: text(path), length: target.count)
            }
        case .characterDevice, .blockDevice:
            if inode.deviceMajor >= 1 << 12 || inode.deviceMinor >= 1 << 20 {
                throw .deviceNumberTooLargeForErofs(path: text(path), major: inode.deviceMajor, minor: inode.deviceMinor)
            }
        case .regular, .directory, .fifo, .socket:
            break
        }
        let body: EROFSXattrBody
        do {
            body = try EROFSXattrBody(inode.xattrs)
        } catch {
            throw .xattrUnsupportedForErofs(path: text(path), name: error.name, reason: "\(error.problem)")
        }
        guard body.bytes.count <= EROFSXattrBody.headerSize + 4 * (Int(UInt16.max) - 1) else {
            throw .xattrsTooLargeForErofs(path: text(path), bytes: body.bytes.count)
        }
        return body
    }

    static func text(_ path: [UInt8]) -> String {
        path.isEmpty ? "/" : String(decoding: path, as: UTF8.self)
    }
}
