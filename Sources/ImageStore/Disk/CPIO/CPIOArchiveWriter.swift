/// Walks a model depth-first in name order and writes its newc entries; see ``CPIOWriter``
/// for the rules on numbers, hardlinks and data.
struct CPIOArchiveWriter {
    let model: FilesystemModel
    let sink: CPIODataSink
    let output: CPIOOutput
    private var nextInode: UInt32 = 1
    /// Archive inode numbers of hardlinked inodes, given at their first name.
    private var inodeNumbers: [InodeID: UInt32] = [:]
    /// Names of hardlinked inodes written so far.
    private var namesWritten: [InodeID: UInt32] = [:]

    init(model: FilesystemModel, sink: CPIODataSink, output: CPIOOutput) {
        self.model = model
        self.sink = sink
        self.output = output
    }

    /// Every entry, `.` first, then the trailer.
    mutating func writeAll() throws(DiskError) {
        let rootChildren = model.children(of: .root)
        try writeDirectory(.root, name: Array(".".utf8), children: rootChildren)
        var stack: [(children: [(name: [UInt8], inode: InodeID)], next: Int, prefix: [UInt8])] = [(rootChildren, 0, [])]
        while let top = stack.last {
            guard top.next < top.children.count else {
                stack.removeLast()
                continue
            }
            stack[stack.count - 1].next += 1
            let child = top.children[top.next]
            let path = top.prefix.isEmpty ? child.name : top.prefix + [UInt8(ascii: "/")] + child.name
            if model[child.inode].kind == .directory {
                let children = model.children(of: child.inode)
                try writeDirectory(child.inode, name: path, children: children)
                stack.append((children, 0, path))
            } else {
                try writeEntry(child.inode, name: path)
            }
        }
        try output.write(CPIOHeader.trailer)
    }

    private mutating func writeDirectory(
        _ id: InodeID, name: [UInt8], children: [(name: [UInt8], inode: InodeID)]
    ) throws(DiskError) {
        let subdirectories = children.reduce(0) { $0 + (model[$1.inode].kind == .directory ? 1 : 0) }
        var header = baseHeader(model[id], inode: nextInode)
        nextInode += 1
        header.nlink = UInt32(clamping: 2 + subdirectories)
        try writeHeader(header, name: name)
    }

    private mutating func writeEntry(_ id: InodeID, name: [UInt8]) throws(DiskError) {
        let inode = model[id]
        let linked = inode.linkCount > 1 && inode.kind != .symlink
        var header: CPIOHeader
        if linked, let known = inodeNumbers[id] {
            header = baseHeader(inode, inode: known)
        } else {
            header = baseHeader(inode, inode: nextInode)
            if linked { inodeNumbers[id] = nextInode }
            nextInode += 1
        }
        header.nlink = linked ? inode.linkCount : 1
        let isLastName: Bool
        if linked {
            namesWritten[id, default: 0] += 1
            isLastName = namesWritten[id] == inode.linkCount
        } else {
            isLastName = true
        }
        switch inode.kind {
        case .regular:
            let stored = inode.content.flatMap { sink.stored($0) }
            let size = isLastName ? (stored?.size ?? 0) : 0
            guard size <= Int64(UInt32.max) else {
                throw .fileTooLargeForCpio(path: String(decoding: name, as: UTF8.self), size: UInt64(size))
            }
            header.fileSize = UInt32(size)
            try writeHeader(header, name: name)
            if let stored, size > 0 {
                try output.copy(from: sink.spool, offset: stored.offset, count: stored.size)
                try output.padToFour()
            }
        case .symlink:
            header.fileSize = UInt32(clamping: inode.symlinkTarget.count)
            try writeHeader(header, name: name)
            try output.write(inode.symlinkTarget)
            try output.padToFour()
        case .characterDevice, .blockDevice:
            header.rdevMajor = inode.deviceMajor
            header.rdevMinor = inode.deviceMinor
            try writeHeader(header, name: name)
        case .directory, .fifo, .socket:
            try writeHeader(header, name: name)
        }
    }

    private func baseHeader(_ inode: Inode, inode number: UInt32) -> CPIOHeader {
        CPIOHeader(
            inode: number, mode: inode.mode, uid: inode.uid, gid: inode.gid, nlink: 1,
            mtime: UInt32(clamping: max(0, inode.modificationTime.seconds)))
    }

    private func writeHeader(_ header: CPIOHeader, name: [UInt8]) throws(DiskError) {
        guard name.count <= CPIOHeader.maxNameLength else {
            throw .nameTooLongForCpio(path: String(decoding: name, as: UTF8.self))
        }
        try output.write(header.encoded(name: name))
    }
}
