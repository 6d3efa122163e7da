/// The metadata pass of ``EROFSWriter/finish(model:)``: numbering, one plan per inode (form,
/// data layout, what is inline), the metadata layout (nids), then every write.
///
/// ```
/// block 0                [1 KiB zero][superblock]
/// blocks 1…              file data as it streamed (released contents reused), then the full
///                        blocks of directories, long symlinks and tails that did not fit inline
/// meta_blkaddr…          inodes in tree order, root first (nid 0), each followed by its inline
///                        xattrs, its chunk table or its inline tail; an inode with its tail never
///                        crosses a block boundary
/// ```
struct EROFSAssembler {
    let model: FilesystemModel
    let sink: EROFSDataSink
    let file: EXT4BlockFile
    let options: EROFSWriterOptions

    /// What follows an inode's xattrs in the metadata area.
    enum Inline {
        case none
        case spool(EROFSSpool.Reference)
        case bytes([UInt8])
        /// The last `size % 4096` bytes of the directory's encoded content.
        case directoryTail(Int)

        var length: Int {
            switch self {
            case .none: return 0
            case .spool(let reference): return reference.length
            case .bytes(let bytes): return bytes.count
            case .directoryTail(let length): return length
            }
        }
    }

    struct Plan {
        var record: EROFSInodeRecord
        /// What follows the xattrs besides an inline tail: a chunk table (le32 block addresses)
        /// or a compressed file's map header and indexes.
        var extra: [UInt8] = []
        var inline: Inline = .none
        /// Where a directory's full blocks go (its whole content if not inline).
        var directoryStart: UInt64 = 0

        /// Bytes of inode, xattrs and chunk table, without the inline tail.
        func metaSize(xattrs: Int) -> Int { record.encodedSize + xattrs + extra.count }
    }

    func write() throws {
        let tree = try EROFSTree(model: model)
        let contents = try regularContents(tree)
        let buildTime = options.buildTime ?? EROFSAssembler.commonTime(model, tree)
        var superblock = EROFSSuperblock()
        var plans: [Plan] = []
        plans.reserveCapacity(tree.order.count)
        var splits: [[Int]] = Array(repeating: [], count: tree.directories.count)
        for (position, id) in tree.order.enumerated() {
            let inode = model[id]
            let xattrBytes = tree.xattrs[position].bytes.count
            var record = EROFSInodeRecord()
            record.mode = UInt16(truncatingIfNeeded: inode.mode)
            record.uid = inode.uid
            record.gid = inode.gid
            record.mtime = inode.modificationTime
            record.number = UInt32(truncatingIfNeeded: position + 1)
            record.xattrCount = tree.xattrs[position].count
            record.linkCount = inode.linkCount
            let directory = tree.directoryIndex[position]
            switch inode.kind {
            case .regular: record.size = UInt64(contents[position]?.size ?? 0)
            case .directory:
                let entries = tree.directories[Int(directory)].entries
                splits[Int(directory)] = EROFSDirectoryBlocks.split(entries)
                record.size = UInt64(EROFSDirectoryBlocks.size(entries, split: splits[Int(directory)]))
                record.linkCount = UInt32(2 + tree.directories[Int(directory)].subdirectories)
            case .symlink: record.size = UInt64(inode.symlinkTarget.count)
            case .characterDevice, .blockDevice, .fifo, .socket: record.size = 0
            }
            record.extended = EROFSInodeRecord.needsExtended(
                uid: record.uid, gid: record.gid, links: record.linkCount, size: record.size, mtime: record.mtime, buildTime: buildTime)
            var plan = Plan(record: record)
            let fixed = record.encodedSize + xattrBytes
            switch inode.kind {
            case .regular:
                if let stored = contents[position] {
                    try planRegular(stored, fixed: fixed, into: &plan)
                    if plan.record.layout == .chunkBased { superblock.featureIncompat |= EROFSSuperblock.incompatChunkedFile }
                    if plan.record.layout == .compressedFull { superblock.featureIncompat |= EROFSSuperblock.incompatZeroPadding }
                }
            case .directory:
                let size = Int64(record.size)
                let tail = Int(size % Int64(EROFSGeometry.blockSize))
                if tail > 0 && fixed + tail <= EROFSGeometry.blockSize {
                    plan.record.layout = .flatInline
                    plan.inline = .directoryTail(tail)
                    let whole = UInt64(size) >> EROFSGeometry.blockShift
                    plan.directoryStart = whole > 0 ? try sink.allocator.takeFrontier(whole) : 0
                } else {
                    plan.record.layout = .flatPlain
                    plan.directoryStart = try sink.allocator.takeFrontier(EROFSGeometry.blocks(size))
                }
                plan.record.union = UInt32(truncatingIfNeeded: plan.directoryStart)
            case .symlink:
                if fixed + inode.symlinkTarget.count <= EROFSGeometry.blockSize {
                    plan.record.layout = .flatInline
                    plan.inline = .bytes(inode.symlinkTarget)
                } else {
                    let block = try sink.allocator.takeFrontier(1)
                    try file.write(inode.symlinkTarget, at: block)
                    plan.record.union = UInt32(truncatingIfNeeded: block)
                }
            case .characterDevice, .blockDevice:
                plan.record.union = EROFSInodeRecord.encodeDevice(major: inode.deviceMajor, minor: inode.deviceMinor)
            case .fifo, .socket:
                break
            }
            plans.append(plan)
        }
        // Metadata layout: nids.
        let metaBlock = sink.allocator.frontier
        var nids: [UInt64] = []
        nids.reserveCapacity(plans.count)
        var position = 0
        let blockSize = EROFSGeometry.blockSize
        for (index, plan) in plans.enumerated() {
            let meta = plan.metaSize(xattrs: tree.xattrs[index].bytes.count)
            let whole = meta + plan.inline.length
            let inBlock = position % blockSize
            if whole <= blockSize ? inBlock + whole > blockSize : inBlock + plan.record.encodedSize > blockSize {
                position += blockSize - inBlock
            }
            nids.append(UInt64(position / EROFSGeometry.slotSize))
            position = (position + whole + EROFSGeometry.slotSize - 1) / EROFSGeometry.slotSize * EROFSGeometry.slotSize
        }
        let metaBlocks = UInt64((position + blockSize - 1) / blockSize)
        guard metaBlock + metaBlocks <= EROFSGeometry.maxBlocks else { throw DiskError.imageTooLargeForErofs }
        // Directory contents, then the metadata area.
        var meta = [UInt8](repeating: 0, count: Int(metaBlocks) * blockSize)
        var directoryTails: [Int: [UInt8]] = [:]
        for (index, directory) in tree.directories.enumerated() {
            let plan = plans[directory.index]
            let bytes = EROFSDirectoryBlocks.encode(directory.entries, split: splits[index]) { nids[$0] }
            let whole = plan.inline.length > 0 ? bytes.count - plan.inline.length : bytes.count
            if whole > 0 { try file.write(bytes, range: 0..<whole, at: plan.directoryStart) }
            if plan.inline.length > 0 { directoryTails[directory.index] = Array(bytes[whole...]) }
        }
        for (index, plan) in plans.enumerated() {
            var at = Int(nids[index]) * EROFSGeometry.slotSize
            meta.putBytes(plan.record.encoded(), at: at)
            at += plan.record.encodedSize
            meta.putBytes(tree.xattrs[index].bytes, at: at)
            at += tree.xattrs[index].bytes.count
            meta.putBytes(plan.extra, at: at)
            at += plan.extra.count
            switch plan.inline {
            case .none: break
            case .spool(let reference): meta.putBytes(try sink.spool.read(reference), at: at)
            case .bytes(let bytes): meta.putBytes(bytes, at: at)
            case .directoryTail: meta.putBytes(directoryTails[index] ?? [], at: at)
            }
        }
        try file.write(meta, at: metaBlock)
        superblock.rootNid = UInt16(nids[0])
        superblock.inodeCount = UInt64(plans.count)
        superblock.buildTime = buildTime
        superblock.blocks = UInt32(metaBlock + metaBlocks)
        superblock.metaBlockAddress = UInt32(metaBlock)
        superblock.uuid = options.uuid
        superblock.volumeName = options.volumeName
        var first = [UInt8](repeating: 0, count: blockSize)
        first.putBytes(superblock.encoded(), at: EROFSGeometry.superblockOffset)
        try file.write(first, at: 0)
        try file.finish(blocks: metaBlock + metaBlocks)
    }
}
