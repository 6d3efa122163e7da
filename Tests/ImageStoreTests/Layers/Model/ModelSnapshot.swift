import Foundation

@testable import ImageStore

/// A model as the same ``FileNode`` table that ``RawTreeSnapshot`` reads from a host tree, so
/// the model builder can be compared with the old directory applier entry by entry.
enum ModelSnapshot {
    static func take(_ model: FilesystemModel, sink: MemorySink) -> [String: FileNode] {
        var result: [String: FileNode] = ["."]
            .reduce(into: [:]) { $0[$1] = node(model[.root], id: .root, model: model, sink: sink) }
        var paths: [InodeID: [UInt8]] = [.root: []]
        model.walk { parent, name, inode in
            let base = paths[parent] ?? []
            let path = base.isEmpty ? name : base + [0x2F] + name
            if model[inode].kind == .directory { paths[inode] = path }
            result[RawTreeSnapshot.display(path)] = node(model[inode], id: inode, model: model, sink: sink)
        }
        return result
    }

    private static func node(_ inode: Inode, id: InodeID, model: FilesystemModel, sink: MemorySink) -> FileNode {
        let type: Character
        switch inode.kind {
        case .regular: type = "f"
        case .directory: type = "d"
        case .symlink: type = "l"
        case .fifo: type = "p"
        case .characterDevice: type = "c"
        case .blockDevice: type = "b"
        case .socket: type = "s"
        }
        var xattrs: [String: [UInt8]] = [:]
        for xattr in inode.xattrs { xattrs[xattr.name] = xattr.value }
        return FileNode(
            type: type, mode: UInt32(inode.permissions), uid: inode.uid, gid: inode.gid,
            size: inode.kind == .directory ? 0 : inode.size,
            content: inode.content.map { sink.bytes($0) }, linkTarget: inode.kind == .symlink ? inode.symlinkTarget : nil,
            rdevMajor: inode.deviceMajor, rdevMinor: inode.deviceMinor,
            mtimeSeconds: Int(inode.modificationTime.seconds), mtimeNanoseconds: Int(inode.modificationTime.nanoseconds),
            inode: UInt64(id.rawValue), links: UInt64(inode.linkCount), xattrs: xattrs)
    }

    /// Times after this (2025-01-01) on the host come from the clock, not from a fixture.
    static let clockStamped = 1_735_689_600

    /// Differences between a host tree (the old applier's) and a model snapshot: type, mode,
    /// owner, size, content, symlink target, device numbers, xattrs, times (of directories
    /// only where the host kept the layer's), and
    /// hardlink groups.
    static func differences(host: [String: FileNode], model: [String: FileNode]) -> [String] {
        var found: [String] = []
        for path in Set(host.keys).union(model.keys).sorted() {
            guard let a = host[path], let b = model[path] else {
                found.append("\(path): host \(String(describing: host[path])), model \(String(describing: model[path]))")
                continue
            }
            var same =
                a.type == b.type && a.mode == b.mode && a.uid == b.uid && a.gid == b.gid && a.linkTarget == b.linkTarget
                && a.xattrs == b.xattrs
            if a.type == "f" { same = same && a.size == b.size && a.content == b.content }
            if a.type == "c" || a.type == "b" { same = same && a.rdevMajor == b.rdevMajor && a.rdevMinor == b.rdevMinor }
            // The host stamps a directory with the clock when it is made implicitly or when a
            // later layer removes a child; the model keeps the time the tar gave (or 0).
            let stampedDirectory = a.type == "d" && (b.mtimeSeconds == 0 || a.mtimeSeconds > ModelSnapshot.clockStamped)
            if !stampedDirectory {
                same = same && a.mtimeSeconds == b.mtimeSeconds && a.mtimeNanoseconds == b.mtimeNanoseconds
            }
            if !same { found.append("\(path): host \(a) \(a.mtimeSeconds), model \(b) \(b.mtimeSeconds)") }
        }
        let hostGroups = RawTreeSnapshot.inodeGroups(host)
        let modelGroups = RawTreeSnapshot.inodeGroups(model)
        if hostGroups != modelGroups { found.append("hardlink groups: host \(hostGroups), model \(modelGroups)") }
        return found
    }
}
