/// The metadata pass of ``EXT4Writer/finish(model:)``: numbering, layout, then every write.
struct EXT4Assembler {
    let model: FilesystemModel
    let sink: EXT4DataSink
    let file: EXT4BlockFile
    let options: EXT4WriterOptions

    func write() throws {
        let tree = try EXT4Tree(model: model)
        let contents = try regularContents(tree)
        var directoryBlocks: [Int] = []
        for directory in tree.directories {
            let minimum = directory.inode == EXT4Geometry.lostAndFoundInode ? EXT4Geometry.lostAndFoundBlocks : 1
            directoryBlocks.append(EXT4DirectoryBlocks.count(directory.entries, minimum: minimum))
        }
        var deepFiles: [(inode: UInt32, extents: Int)] = []
        var slowSymlinks: [UInt32] = []
        for number in 0...tree.lastInode {
            guard let id = tree.modelIDs[Int(number)] else { continue }
            if let extents = contents[number]?.extents, extents.count > EXT4ExtentHeader.inodeCapacity {
                deepFiles.append((number, extents.count))
            }
            let inode = model[id]
            if inode.kind == .symlink && inode.symlinkTarget.count >= 60 { slowSymlinks.append(number) }
        }
        let layout: EXT4Layout
        do {
            layout = try EXT4Layout.make(
                tree: tree, directoryBlocks: directoryBlocks, fileExtentCounts: deepFiles, slowSymlinks: slowSymlinks,
                allocator: sink.allocator)
        } catch {
            throw DiskError.imageTooLargeForExt4
        }
        var used = EXT4UsedBlocks(blocks: layout.blocksCount)
        for group in EXT4Geometry.backupGroups where group < layout.groups {
            try used.mark(group * EXT4Geometry.blocksPerGroup, count: 1 + EXT4Geometry.descriptorBlocks(groups: layout.groups))
        }
        for group in 0..<Int(layout.groups) {
            try used.mark(layout.blockBitmaps[group], count: 1)
            try used.mark(layout.inodeBitmaps[group], count: 1)
            try used.mark(layout.inodeTables[group], count: layout.inodeTableBlocks)
        }
        var records: [EXT4InodeRecord] = Array(repeating: EXT4InodeRecord(), count: Int(tree.lastInode) + 1)
        // Directories.
        for (index, directory) in tree.directories.enumerated() {
            let extents = layout.directoryExtents[index]
            let bytes = EXT4DirectoryBlocks.encode(
                directory.entries, inode: directory.inode, parent: directory.parent, minimum: directoryBlocks[index])
            var offset = 0
            for extent in extents {
                let length = Int(extent.length) * EXT4Geometry.blockSize
                try file.write(bytes, range: offset..<(offset + length), at: extent.physical)
                try used.mark(extent.physical, count: UInt64(extent.length))
                offset += length
            }
            let built = EXT4ExtentTree.build(extents, treeBlocks: layout.directoryTreeBlocks[index])
            for block in built.blocks {
                try file.write(block.bytes, at: block.block)
                try used.mark(block.block, count: 1)
            }
            var record = EXT4InodeRecord()
            let links = 2 + directory.subdirectories
            record.linksCount = links > Int(EXT4Geometry.maxLinks) ? 1 : UInt16(links)
            record.size = UInt64(bytes.count)
            record.flags = EXT4InodeRecord.extentsFlag
            record.block = built.root
            record.sectors = UInt64(directoryBlocks[index] + built.blocks.count) * 8
            if let id = tree.modelIDs[Int(directory.inode)] {
                apply(model[id], to: &record)
            } else {
                record.mode = UInt16(InodeKind.directory.modeType | 0o700)
            }
            records[Int(directory.inode)] = record
        }
        // Everything else.
        for number in EXT4Geometry.firstInode...max(EXT4Geometry.firstInode, tree.lastInode) where Int(number) < tree.modelIDs.count {
            guard let id = tree.modelIDs[Int(number)] else { continue }
            let inode = model[id]
            guard inode.kind != .directory else { continue }
            var record = EXT4InodeRecord()
            apply(inode, to: &record)
            record.linksCount = UInt16(inode.linkCount)
            switch inode.kind {
            case .regular:
                let stored = contents[number]
                let extents = stored?.extents ?? []
                let treeBlocks = layout.fileTreeBlocks[number] ?? []
                let built = EXT4ExtentTree.build(extents, treeBlocks: treeBlocks)
                for block in built.blocks {
                    try file.write(block.bytes, at: block.block)
                    try used.mark(block.block, count: 1)
                }
                var dataBlocks: UInt64 = 0
                for extent in extents {
                    try used.mark(extent.physical, count: UInt64(extent.length))
                    dataBlocks += UInt64(extent.length)
                }
                record.size = UInt64(stored.map(\.size) ?? inode.size)
                record.flags = EXT4InodeRecord.extentsFlag
                record.block = built.root
                record.sectors = (dataBlocks + UInt64(built.blocks.count)) * 8
            case .symlink:
                record.size = UInt64(inode.symlinkTarget.count)
                if let block = layout.symlinkBlocks[number] {
                    try file.write(inode.symlinkTarget, at: block)
                    try used.mark(block, count: 1)
                    let extent = EXT4Extent(logical: 0, length: 1, physical: block)
                    record.block = EXT4ExtentTree.build([extent], treeBlocks: []).root
                    record.flags = EXT4InodeRecord.extentsFlag
                    record.sectors = 8
                } else {
                    record.block.putBytes(inode.symlinkTarget, at: 0)
                }
            case .characterDevice, .blockDevice:
                let major = inode.deviceMajor, minor = inode.deviceMinor
                if major < 256 && minor < 256 {
                    record.block.putLE32(major << 8 | minor, at: 0)
                } else {
                    record.block.putLE32((minor & 0xFF) | (major & 0xFFF) << 8 | (minor & ~0xFF) << 12, at: 4)
                }
            case .fifo, .socket, .directory:
                break
            }
            records[Int(number)] = record
        }
        // Attributes.
        var writtenXattrBlocks = Set<UInt64>()
        for (number, xattrs) in tree.xattrs {
            records[Int(number)].inlineXattrs = xattrs.inline
            if var bytes = xattrs.block, let block = layout.xattrBlocks[number] {
                if writtenXattrBlocks.insert(block).inserted {
                    bytes.putLE32(layout.xattrReferences[block] ?? 1, at: 4)  // h_refcount
                    try file.write(bytes, at: block)
                    try used.mark(block, count: 1)
                }
                records[Int(number)].xattrBlock = block
                records[Int(number)].sectors += 8
            }
        }
        try writeTables(records: records, tree: tree, layout: layout, used: used)
    }

    /// Owner, mode and times shared by every kind.
    private func apply(_ inode: Inode, to record: inout EXT4InodeRecord) {
        record.mode = UInt16(truncatingIfNeeded: inode.mode)
        record.uid = inode.uid
        record.gid = inode.gid
        record.time = EXT4Time(inode.modificationTime)
    }

    /// The stored content of every regular file by inode number; contents stored but no longer
    /// referenced are punched (no dead data); a content claimed by two inodes is refused.
    private func regularContents(_ tree: EXT4Tree) throws -> [UInt32: EXT4DataSink.Stored] {
        var result: [UInt32: EXT4DataSink.Stored] = [:]
        var referenced = Set<UInt32>()
        for number in 0...tree.lastInode {
            guard let id = tree.modelIDs[Int(number)] else { continue }
            let inode = model[id]
            guard inode.kind == .regular, let content = inode.content else { continue }
            guard referenced.insert(content.rawValue).inserted else {
                throw DiskError.inconsistentModel(reason: "content \(content.rawValue) belongs to two inodes")
            }
            guard let stored = sink.stored(content) else {
                throw DiskError.inconsistentModel(reason: "content \(content.rawValue) was released or never stored")
            }
            result[number] = stored
        }
        for (index, stored) in sink.contents.enumerated() where !stored.released && !referenced.contains(UInt32(index)) {
            try sink.release(ContentID(rawValue: UInt32(index)))
        }
        return result
    }
}
