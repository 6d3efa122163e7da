/// The model numbered for ext4: inode numbers in walk order (root 2, lost+found 11, then every
/// inode at its first entry, depth first, children by name), each directory's entries, and
/// every per-inode check done once with the entry's path at hand.
///
/// Linear in the number of entries (one sort per directory), for any directory size.
struct EXT4Tree {
    struct Entry {
        var name: [UInt8]
        var inode: UInt32
        var fileType: UInt8
    }

    struct Directory {
        var inode: UInt32
        var parent: UInt32
        var entries: [Entry]
        var subdirectories: Int
    }

    /// The model inode of each inode number; `nil` for 0…10 and a lost+found the writer adds.
    var modelIDs: [InodeID?]
    var directories: [Directory] = []
    /// Index in ``directories`` by inode number (`-1` for other kinds).
    var directoryIndex: [Int32]
    /// Attribute layouts of the inodes that have attributes.
    var xattrs: [UInt32: EXT4XattrLayout] = [:]

    /// The highest inode number in use.
    var lastInode: UInt32 { UInt32(modelIDs.count - 1) }

    init(model: FilesystemModel) throws(DiskError) {
        let lostAndFoundName = Array("lost+found".utf8)
        modelIDs = Array(repeating: nil, count: Int(EXT4Geometry.firstInode) + 1)
        modelIDs[Int(EXT4Geometry.rootInode)] = .root
        var numbers: [UInt32: UInt32] = [InodeID.root.rawValue: EXT4Geometry.rootInode]
        numbers.reserveCapacity(model.inodeCount)
        modelIDs.reserveCapacity(model.inodeCount + Int(EXT4Geometry.firstInode))
        var addLostAndFound = true
        if let existing = model.lookup(lostAndFoundName, in: .root) {
            guard model[existing].kind == .directory else {
                throw .lostAndFoundNotDirectory(kind: "\(model[existing].kind)")
            }
            numbers[existing.rawValue] = EXT4Geometry.lostAndFoundInode
            modelIDs[Int(EXT4Geometry.lostAndFoundInode)] = existing
            addLostAndFound = false
        }
        try EXT4Tree.check(model[.root], path: [UInt8]("/".utf8), into: &xattrs, number: EXT4Geometry.rootInode)
        if let existing = modelIDs[Int(EXT4Geometry.lostAndFoundInode)] {
            try EXT4Tree.check(model[existing], path: Array("/lost+found".utf8), into: &xattrs, number: EXT4Geometry.lostAndFoundInode)
        } else {
            directories.append(Directory(inode: EXT4Geometry.lostAndFoundInode, parent: EXT4Geometry.rootInode, entries: [], subdirectories: 0))
        }

        var stack: [(id: InodeID, inode: UInt32, parent: UInt32, path: [UInt8])] = [(.root, EXT4Geometry.rootInode, EXT4Geometry.rootInode, [])]
        while let directory = stack.popLast() {
            let children = model.children(of: directory.id)
            var entries: [Entry] = []
            entries.reserveCapacity(children.count + 1)
            var subdirectories: [(id: InodeID, inode: UInt32, parent: UInt32, path: [UInt8])] = []
            for child in children {
                let inode = model[child.inode]
                let path = directory.path + [UInt8(ascii: "/")] + child.name
                guard child.name.count <= 255 else { throw .nameTooLongForExt4(path: EXT4Tree.text(path)) }
                let number: UInt32
                if let known = numbers[child.inode.rawValue] {
                    number = known
                } else {
                    guard modelIDs.count < Int(UInt32.max) else { throw .imageTooLargeForExt4 }
                    number = UInt32(modelIDs.count)
                    numbers[child.inode.rawValue] = number
                    modelIDs.append(child.inode)
                    try EXT4Tree.check(inode, path: path, into: &xattrs, number: number)
                }
                entries.append(Entry(name: child.name, inode: number, fileType: EXT4DirectoryEntry.fileType(inode.kind)))
                if inode.kind == .directory { subdirectories.append((child.inode, number, directory.inode, path)) }
            }
            var subdirectoryCount = subdirectories.count
            if directory.inode == EXT4Geometry.rootInode && addLostAndFound {
                let position = entries.firstIndex { !$0.name.lexicographicallyPrecedes(lostAndFoundName) } ?? entries.count
                entries.insert(Entry(name: lostAndFoundName, inode: EXT4Geometry.lostAndFoundInode, fileType: 2), at: position)
                subdirectoryCount += 1
            }
            directories.append(Directory(inode: directory.inode, parent: directory.parent, entries: entries, subdirectories: subdirectoryCount))
            stack.append(contentsOf: subdirectories.reversed())
        }
        directoryIndex = Array(repeating: -1, count: modelIDs.count)
        for (index, directory) in directories.enumerated() { directoryIndex[Int(directory.inode)] = Int32(index) }
    }

    /// The checks of one inode that need its path for a clear error; its attribute layout.
    private static func check(
        _ inode: Inode, path: [UInt8], into xattrs: inout [UInt32: EXT4XattrLayout], number: UInt32
    ) throws(DiskError) {
        if inode.kind != .directory && inode.linkCount > EXT4Geometry.maxLinks {
            throw .tooManyLinksForExt4(path: text(path), links: inode.linkCount)
        }
        if inode.kind == .symlink {
            let target = inode.symlinkTarget
            if target.isEmpty || target.count >= EXT4Geometry.blockSize || target.contains(0) {
                throw .invalidSymlinkForExt4(path: text(path), length: target.count)
            }
        }
        if inode.kind == .regular && inode.size < 0 { throw .fileTooLargeForExt4(size: inode.size) }
        guard !inode.xattrs.isEmpty else { return }
        do {
            xattrs[number] = try EXT4XattrLayout(inode.xattrs)
        } catch {
            switch error {
            case .tooLarge(let bytes): throw .xattrsTooLargeForExt4(path: text(path), bytes: bytes)
            case .problem(let name, let problem): throw .xattrUnsupportedForExt4(path: text(path), name: name, reason: "\(problem)")
            }
        }
    }

    static func text(_ path: [UInt8]) -> String {
        path.isEmpty ? "/" : String(decoding: path, as: UTF8.self)
    }
}
