import Foundation

/// Applies one layer tar to a root directory; runs on one blocking thread.
///
/// Semantics (OCI image-spec layer.md): entries are applied in tar order; an entry replacing
/// an entry of another type removes it first (a directory with its whole tree); a directory
/// over a directory keeps the children and takes the new metadata; a regular file is always a
/// new inode, so hardlinks made earlier keep the old one. Metadata order is owner, then mode
/// (chown clears setuid), then xattrs (chown clears `security.capability`), then times;
/// directory times are set after the last entry of the layer. Whiteouts are in
/// `LayerUnpack+Whiteouts.swift`.
final class LayerUnpack {
    let layer: Digest
    let limits: LayerLimits
    let cancellation: CancellationFlag
    let root: ContainedDirectory
    /// Counters carried over all layers of one apply.
    var statistics: LayerStatistics
    /// Paths written by this layer; whiteouts never remove them.
    var written: Set<[UInt8]> = []
    /// Every directory above a path in ``written``.
    var ancestors: Set<[UInt8]> = [[]]
    /// Directory times to set at the end of the layer, by path key.
    private var directoryTimes: [[UInt8]: (components: [[UInt8]], seconds: Int64, nanoseconds: Int64)] = [:]
    /// The entry being applied, for messages.
    var currentPath = ""
    /// Called after each entry with the layer file's bytes read so far.
    var onProgress: ((Int64) -> Void)?

    init(
        layer: Digest, root: ContainedDirectory, limits: LayerLimits, statistics: LayerStatistics,
        cancellation: CancellationFlag
    ) {
        self.layer = layer
        self.root = root
        self.limits = limits
        self.statistics = statistics
        self.cancellation = cancellation
    }

    /// Reads every entry of `reader` and applies it.
    func apply(_ reader: ArchiveReader) throws {
        var lastPath: String?
        while true {
            let next: ArchiveEntry?
            do {
                next = try reader.next()
            } catch {
                throw error.layerError(layer: layer, path: lastPath)
            }
            guard let entry = next else { break }
            if cancellation.isCancelled { throw CancellationError() }
            currentPath = entry.displayPath
            lastPath = currentPath
            statistics.entries += 1
            guard statistics.entries <= limits.maxEntries else {
                throw LayerError.limitExceeded(
                    layer: layer, path: currentPath, limit: "more than \(limits.maxEntries) entries (maxEntries)")
            }
            try apply(entry, reader)
            onProgress?(reader.fileBytesRead)
        }
        try setDirectoryTimes()
        statistics.layers += 1
    }

    // MARK: - Entries

    private func apply(_ entry: ArchiveEntry, _ reader: ArchiveReader) throws {
        try checkLength(entry.path, "path")
        let components: [[UInt8]]
        switch EntryPath.components(entry.path) {
        case .success(let value): components = value
        case .failure(let refusal): throw LayerError.unsafePath(layer: layer, path: currentPath, reason: refusal.reason)
        }
        if components.dropLast().contains(where: { $0.starts(with: LayerUnpack.whiteoutPrefix) }) {
            throw LayerError.unsafePath(
                layer: layer, path: currentPath, reason: "a directory component uses the reserved prefix .wh.")
        }
        if let base = components.last, base.starts(with: LayerUnpack.whiteoutPrefix) {
            try whiteout(components)
            return
        }
        guard (0..<Int64(UInt32.max)).contains(entry.uid), (0..<Int64(UInt32.max)).contains(entry.gid) else {
            throw LayerError.invalidEntry(layer: layer, path: currentPath, reason: "uid or gid is out of range")
        }
        guard let name = components.last else {
            try applyRoot(entry)
            return
        }
        let parent = try resolve(components.dropLast(), create: true)
        switch entry.kind {
        case .directory:
            let existing = try fs { try root.kind(in: parent, name) }
            if existing != .directory {
                try clear(parent, name)
                try fs { try root.makeDirectory(in: parent, name) }
            }
            try setMetadata(entry, parent, name, isSymlink: false)
            directoryTimes[EntryPath.key(components)] = (components, entry.mtimeSeconds, entry.mtimeNanoseconds)
        case .regular:
            try reserve(entry.size)
            try clear(parent, name)
            try writeFile(entry, reader, parent, name)
            try setMetadata(entry, parent, name, isSymlink: false)
            try setTimes(entry, parent, name)
        case .symlink:
            let target = entry.symlinkTarget ?? []
            try checkLength(target, "symlink target")
            try clear(parent, name)
            try fs { try root.symlink(target: target, in: parent, name) }
            try setMetadata(entry, parent, name, isSymlink: true)
            try setTimes(entry, parent, name)
        case .hardlink:
            guard try link(entry, components, parent, name) else { return }
        case .fifo, .characterDevice, .blockDevice:
            let node: NodeKind =
                entry.kind == .fifo ? .fifo : entry.kind == .characterDevice ? .characterDevice : .blockDevice
            try clear(parent, name)
            try fs { try root.makeNode(in: parent, name, kind: node, device: entry.rdev) }
            try setMetadata(entry, parent, name, isSymlink: false)
            try setTimes(entry, parent, name)
        case .socket:
            // A socket cannot be recreated from a tar; tar skips them too.
            return
        case .unknown(let type):
            throw LayerError.invalidEntry(
                layer: layer, path: currentPath, reason: "unsupported entry type 0o\(String(type, radix: 8))")
        }
        markWritten(components)
    }

    /// An entry for the root itself (`./`): only a directory may take its place.
    private func applyRoot(_ entry: ArchiveEntry) throws {
        guard entry.kind == .directory else {
            throw LayerError.unsafePath(layer: layer, path: currentPath, reason: "a non-directory would replace the root")
        }
        try setMetadata(entry, root.root, [0x2E], isSymlink: false)
        directoryTimes[[]] = ([], entry.mtimeSeconds, entry.mtimeNanoseconds)
    }

    /// Links to an entry of this or a lower layer; `false` for a link to itself (nothing to do).
    private func link(_ entry: ArchiveEntry, _ components: [[UInt8]], _ parent: OpenDescriptor, _ name: [UInt8]) throws
        -> Bool
    {
        let rawTarget = entry.hardlinkTarget ?? []
        let shown = ArchiveEntry.display(rawTarget)
        try checkLength(rawTarget, "hardlink target")
        guard case .success(let target) = EntryPath.components(rawTarget), let targetName = target.last else {
            throw LayerError.invalidHardlink(
                layer: layer, path: currentPath, target: shown, reason: "the target leaves the root or is the root")
        }
        if target == components { return false }
        let targetParent: OpenDescriptor?
        do {
            targetParent = try root.directory(target.dropLast(), create: false)
        } catch .symlinkComponent(let prefix) {
            throw LayerError.invalidHardlink(
                layer: layer, path: currentPath, target: shown,
                reason: "\"\(ArchiveEntry.display(prefix))\" is a symlink and is never followed")
        } catch {
            throw map(error)
        }
        guard let targetParent, let kind = try fs({ try root.kind(in: targetParent, targetName) }) else {
            throw LayerError.invalidHardlink(layer: layer, path: currentPath, target: shown, reason: "the target does not exist")
        }
        guard kind != .directory else {
            throw LayerError.invalidHardlink(layer: layer, path: currentPath, target: shown, reason: "the target is a directory")
        }
        try clear(parent, name)
        try fs { try root.link(targetName, in: targetParent, as: name, in: parent) }
        return true
    }

    private func writeFile(_ entry: ArchiveEntry, _ reader: ArchiveReader, _ parent: OpenDescriptor, _ name: [UInt8]) throws {
        let file = try fs { try root.createFile(in: parent, name) }
        do {
            try reader.readData { offset, bytes in
                guard offset >= 0, offset + Int64(bytes.count) <= entry.size else {
                    throw LayerError.corruptArchive(
                        layer: layer, path: currentPath, message: "entry data is longer than its declared size")
                }
                try fs { try root.write(file, offset: offset, bytes) }
            }
        } catch let failure as ArchiveReader.Failure {
            throw failure.layerError(layer: layer, path: currentPath)
        }
        try fs { try root.truncate(file, to: entry.size) }
    }

    /// Owner, then mode, then xattrs: chown clears setuid/setgid and `security.capability`.
    func setMetadata(_ entry: ArchiveEntry, _ parent: OpenDescriptor, _ name: [UInt8], isSymlink: Bool) throws {
        try fs {
            try root.setOwner(in: parent, name, uid: UInt32(entry.uid), gid: UInt32(entry.gid))
            if !isSymlink { try root.setMode(in: parent, name, entry.permissions) }
            for xattr in entry.xattrs {
                try root.setXattr(in: parent, name, key: xattr.name, value: xattr.value)
            }
        }
    }

    private func setDirectoryTimes() throws {
        for (components, seconds, nanoseconds) in directoryTimes.values {
            let name = components.last ?? [0x2E]
            guard let parent = try fs({ try root.directory(components.dropLast(), create: false) }),
                try fs({ try root.kind(in: parent, name) }) == .directory
            else { continue }
            try fs { try root.setTimes(in: parent, name, seconds: seconds, nanoseconds: nanoseconds) }
        }
    }

    // MARK: - Helpers

    func resolve(_ components: ArraySlice<[UInt8]>, create: Bool) throws -> OpenDescriptor {
        guard let directory = try fs({ try root.directory(components, create: create) }) else {
            throw LayerError.fileSystem(layer: layer, path: currentPath, operation: "open parent", errno: ENOENT, message: "missing")
        }
        return directory
    }

    /// Removes whatever is at `name` (a directory with its tree); nothing is followed.
    private func clear(_ parent: OpenDescriptor, _ name: [UInt8]) throws {
        try fs {
            if try root.kind(in: parent, name) != nil { try root.removeTree(in: parent, name) }
        }
    }

    private func setTimes(_ entry: ArchiveEntry, _ parent: OpenDescriptor, _ name: [UInt8]) throws {
        try fs { try root.setTimes(in: parent, name, seconds: entry.mtimeSeconds, nanoseconds: entry.mtimeNanoseconds) }
    }

    func markWritten(_ components: [[UInt8]]) {
        written.insert(EntryPath.key(components))
        for count in 0..<components.count {
            ancestors.insert(EntryPath.key(components.prefix(count)))
        }
    }

    private func reserve(_ size: Int64) throws {
        guard size >= 0 else {
            throw LayerError.invalidEntry(layer: layer, path: currentPath, reason: "negative size")
        }
        guard size <= limits.maxTotalBytes - statistics.bytes else {
            throw LayerError.limitExceeded(
                layer: layer, path: currentPath,
                limit: "declared size \(size) would pass \(limits.maxTotalBytes) bytes in total (maxTotalBytes)")
        }
        statistics.bytes += size
    }

    private func checkLength(_ bytes: [UInt8], _ what: String) throws {
        guard bytes.count <= limits.maxPathLength else {
            throw LayerError.limitExceeded(
                layer: layer, path: String(currentPath.prefix(200)),
                limit: "\(what) is \(bytes.count) bytes, over \(limits.maxPathLength) (maxPathLength)")
        }
    }

    /// Runs file system steps, turning a ``FileSystemFault`` into a ``LayerError`` for this entry.
    func fs<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let fault as FileSystemFault {
            throw map(fault)
        }
    }

    func map(_ fault: FileSystemFault) -> LayerError {
        switch fault {
        case .symlinkComponent(let prefix):
            return .symlinkInPath(layer: layer, path: currentPath, component: ArchiveEntry.display(prefix))
        case .notDirectory(let prefix):
            return .notADirectory(layer: layer, path: currentPath, component: ArchiveEntry.display(prefix))
        case .system(let operation, let code):
            return .fileSystem(
                layer: layer, path: currentPath, operation: operation, errno: code, message: String(cString: strerror(code)))
        }
    }
}
