/// Applies OCI layer tars, base first, to a ``FilesystemModel``: nothing of the image is ever
/// created on the host, and regular-file bytes go straight to a writer's ``FileDataSink``.
///
/// Semantics (OCI image-spec layer.md, as containerd and umoci apply layers):
/// - entries in tar order; an entry replacing one of another type removes it first (a
///   directory with its whole subtree); a directory over a directory keeps its children and
///   takes the new owner, mode and time, its xattrs merged (new names win);
/// - a regular file, symlink, device or FIFO is always a new inode, so hardlinks made earlier
///   keep the old one; a hardlink names an inode of this or a lower layer (never a directory);
/// - directory components resolve through symlinks *inside the rootfs*
///   (`LayerModelBuilder+Paths.swift`); the final component is never followed;
/// - whiteouts and opaque directories in `LayerModelBuilder+Whiteouts.swift`;
/// - sockets are skipped (tar cannot recreate them); missing parents are made 0755 root:root
///   with time 0, so the result does not depend on when it was built.
///
/// Memory is metadata only. Per layer the builder keeps the inode ids this layer created or
/// wrote into (4 bytes each) and the (directory, name) of its hardlink entries, never paths.
/// File data is streamed: holes of sparse entries stay holes (the sink gets data blocks only);
/// declared (apparent) sizes count against ``LayerLimits/maxTotalBytes``. Contents left
/// without a link are handed to ``FileDataSink/release(_:)`` after each entry.
///
/// In ``Mode/overlayLayer`` the builder makes the model of one layer on its own, as an overlayfs
/// lower directory, instead of merging (`LayerModelBuilder+Overlay.swift`); given the lower
/// layers merged, it copies up the lower files the layer hardlinks (`LayerModelBuilder+CopyUp.swift`).
///
/// Not thread-safe: one builder runs on one ``BlockingExecutor`` thread.
final class LayerModelBuilder {
    /// The merged filesystem so far.
    let model: FilesystemModel
    let sink: any FileDataSink
    let limits: LayerLimits
    let cancellation: CancellationFlag
    /// Merge layers (the image's filesystem) or keep one layer as an overlayfs lower directory.
    let mode: Mode
    /// Counters over all layers applied so far.
    var statistics = LayerStatistics()

    /// The layer being applied and its entry, for messages.
    var layer = Digest(sha256Hex: String(repeating: "0", count: 64))
    var currentPath = ""
    /// Inodes this layer created, and directories it wrote or wrote into; whiteouts and
    /// opaque markers never remove them (see `+Whiteouts`). Every ancestor of a member is a member.
    var layerInodes: Set<InodeID> = []
    /// Hardlink entries of this layer: they name lower inodes, so their entry marks them.
    var layerLinks: Set<EntryKey> = []
    /// ``Mode/overlayLayer``: the 0/0 character devices this builder made for whiteouts.
    var whiteoutDevices: Set<InodeID> = []
    /// ``Mode/overlayLayer`` with the lower layers given: where hardlink targets of lower
    /// layers are copied up from (`LayerModelBuilder+CopyUp.swift`).
    let copyUp: LayerCopyUp?
    /// ``Mode/overlayLayer`` without lower layers: set when a hardlink named a file this layer
    /// does not have, which a build over the lower layers may find there.
    private(set) var needsLowerLayers = false

    /// One directory entry: the directory's inode and the name in it.
    struct EntryKey: Hashable {
        var directory: InodeID
        var name: [UInt8]
    }

    /// A builder whose model holds only a root directory (0755 root:root, time 0).
    init(
        sink: any FileDataSink, limits: LayerLimits = .default, cancellation: CancellationFlag = CancellationFlag(),
        mode: Mode = .merged, lower: FilesystemModel? = nil
    ) {
        precondition(lower == nil || mode == .overlayLayer, "only an overlay-layer build copies up from lower layers")
        self.model = FilesystemModel()
        self.mode = mode
        self.copyUp = lower.map { LayerCopyUp(lower: $0) }
        self.sink = sink
        self.limits = limits
        self.cancellation = cancellation
    }

    /// Applies one layer blob.
    ///
    /// - Parameter progress: called after each entry with the blob bytes read so far.
    /// - Throws: ``LayerError`` naming the layer and entry; what the sink throws (a writer's
    ///   `DiskError`); `CancellationError`.
    func apply(_ source: LayerSource, progress: ((Int64) -> Void)? = nil) throws {
        let reader = try source.openArchive()
        try apply(reader, layer: source.digest, progress: progress)
    }

    /// Applies every entry of `reader` as the layer `digest`.
    func apply(_ reader: ArchiveReader, layer digest: Digest, progress: ((Int64) -> Void)? = nil) throws {
        precondition(mode == .merged || statistics.layers == 0, "an overlay-layer builder applies exactly one layer")
        layer = digest
        layerInodes = []
        layerLinks = []
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
            for content in model.takeReleasedContents() { try sink.release(content) }
            progress?(reader.fileBytesRead)
        }
        layerInodes = []
        layerLinks = []
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
        if components.dropLast().contains(where: { $0.starts(with: LayerModelBuilder.whiteoutPrefix) }) {
            throw LayerError.unsafePath(
                layer: layer, path: currentPath, reason: "a directory component uses the reserved prefix .wh.")
        }
        if let base = components.last, base.starts(with: LayerModelBuilder.whiteoutPrefix) {
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
        guard var chain = try resolve(components.dropLast(), create: true) else {
            preconditionFailure("resolve with create always finds a directory")
        }
        let parent = chain[chain.count - 1]
        switch entry.kind {
        case .directory:
            if let existing = model.lookup(name, in: parent), model[existing].kind == .directory {
                var inode = model[existing]
                LayerModelBuilder.take(entry, into: &inode)
                inode.xattrs += xattrs(entry)
                model[existing] = inode
                chain.append(existing)
            } else {
                // Overlay mode: a directory where this layer whites out the name hides the lower one.
                let hidesLower = isWhiteoutDevice(model.lookup(name, in: parent))
                clear(parent, name)
                let directory = model.insert(newInode(.directory, entry), named: name, in: parent)
                if hidesLower { makeOpaque(directory) }
                chain.append(directory)
            }
        case .regular:
            try reserve(entry.size)
            let content = try store(entry, reader)
            clear(parent, name)
            var inode = newInode(.regular, entry)
            inode.size = entry.size
            inode.content = content
            layerInodes.insert(model.insert(inode, named: name, in: parent))
        case .symlink:
            let target = entry.symlinkTarget ?? []
            try checkLength(target, "symlink target")
            guard !target.isEmpty else {
                throw LayerError.invalidEntry(layer: layer, path: currentPath, reason: "the symlink target is empty")
            }
            clear(parent, name)
            var inode = newInode(.symlink, entry)
            // Linux gives every symlink 0777, whatever the header says.
            inode.permissions = 0o777
            inode.symlinkTarget = target
            inode.size = Int64(target.count)
            layerInodes.insert(model.insert(inode, named: name, in: parent))
        case .hardlink:
            guard try link(entry, components, parent: parent, name) else { return }
        case .fifo, .characterDevice, .blockDevice:
            let kind: InodeKind =
                entry.kind == .fifo ? .fifo : entry.kind == .characterDevice ? .characterDevice : .blockDevice
            clear(parent, name)
            var inode = newInode(kind, entry)
            if kind != .fifo {
                inode.deviceMajor = entry.rdevMajor
                inode.deviceMinor = entry.rdevMinor
            }
            layerInodes.insert(model.insert(inode, named: name, in: parent))
        case .socket:
            // A socket cannot be recreated from a tar; tar skips them too.
            return
        case .unknown(let type):
            throw LayerError.invalidEntry(
                layer: layer, path: currentPath, reason: "unsupported entry type 0o\(String(type, radix: 8))")
        }
        markWritten(chain)
    }

    /// An entry for the root itself (`./`): only a directory may take its place.
    private func applyRoot(_ entry: ArchiveEntry) throws {
        guard entry.kind == .directory else {
            throw LayerError.unsafePath(layer: layer, path: currentPath, reason: "a non-directory would replace the root")
        }
        var root = model[.root]
        LayerModelBuilder.take(entry, into: &root)
        root.xattrs += xattrs(entry)
        model[.root] = root
    }

    /// Links to an entry of this or a lower layer; `false` for a link to itself (nothing to do).
    ///
    /// The target's directories resolve through in-root symlinks like any path; its last
    /// component is linked as it is (a symlink target is linked itself, as `linkat` does).
    /// An overlay layer given its lower layers finds the target in the overlay of this layer
    /// over them and copies a lower target up (`+CopyUp`); without them, a target this layer
    /// lacks is refused and ``needsLowerLayers`` set.
    private func link(_ entry: ArchiveEntry, _ components: [[UInt8]], parent: InodeID, _ name: [UInt8]) throws -> Bool {
        let rawTarget = entry.hardlinkTarget ?? []
        let shown = ArchiveEntry.display(rawTarget)
        try checkLength(rawTarget, "hardlink target")
        guard case .success(let target) = EntryPath.components(rawTarget), !target.isEmpty else {
            throw LayerError.invalidHardlink(
                layer: layer, path: currentPath, target: shown, reason: "the target leaves the root or is the root")
        }
        if target == components { return false }
        func find(copyingUp: Bool) throws -> InodeID {
            let found: InodeID?
            if copyUp != nil {
                found = try overlayLinkTarget(target, shown: shown, copyingUp: copyingUp)
            } else if let chain = try resolve(target.dropLast(), create: false),
                let entry = target.last.flatMap({ model.lookup($0, in: chain[chain.count - 1]) }), !isWhiteoutDevice(entry)
            {
                found = entry
            } else {
                found = nil
                if mode == .overlayLayer { needsLowerLayers = true }
            }
            guard let found else {
                throw LayerError.invalidHardlink(layer: layer, path: currentPath, target: shown, reason: "the target does not exist")
            }
            guard model[found].kind != .directory else {
                throw LayerError.invalidHardlink(layer: layer, path: currentPath, target: shown, reason: "the target is a directory")
            }
            return found
        }
        _ = try find(copyingUp: true)
        clear(parent, name)
        // Clearing the entry may have removed the target (a target below the entry it
        // replaces); what it removed is gone in the overlay too, so nothing is copied up again.
        let inode = try find(copyingUp: false)
        model.link(inode, in: parent, named: name)
        layerLinks.insert(EntryKey(directory: parent, name: name))
        return true
    }

    /// Streams the entry's data blocks to the sink; holes stay holes.
    private func store(_ entry: ArchiveEntry, _ reader: ArchiveReader) throws -> ContentID {
        let size = entry.size
        var stored: Int64 = 0
        let content: ContentID
        do {
            content = try sink.store(size: size) { body in
                try reader.readData { offset, bytes in
                    guard offset >= 0, offset <= size - Int64(bytes.count) else {
                        throw LayerError.corruptArchive(
                            layer: layer, path: currentPath, message: "entry data is longer than its declared size")
                    }
                    stored += Int64(bytes.count)
                    try body(offset, bytes)
                }
            }
        } catch let failure as ArchiveReader.Failure {
            throw failure.layerError(layer: layer, path: currentPath)
        }
        statistics.dataBytes += stored
        return content
    }

    // MARK: - Helpers

    /// Removes whatever is at `name` in `directory` (a directory with its subtree).
    func clear(_ directory: InodeID, _ name: [UInt8]) {
        guard model.remove(name, in: directory) else { return }
        copyUp?.entries.remove(EntryKey(directory: directory, name: name))
        forgetFreed()
    }

    /// Drops per-layer state of inodes the model freed, before their ids are reused.
    func forgetFreed() {
        let freed = model.takeFreedInodes()
        for id in freed {
            layerInodes.remove(id)
            whiteoutDevices.remove(id)
        }
        if !freed.isEmpty { copyUp?.forget(Set(freed)) }
    }

    /// Marks the directories of `chain` (root first) as written into by this layer. Stops at
    /// the first one already marked: its ancestors are marked too.
    func markWritten(_ chain: [InodeID]) {
        for id in chain.reversed() {
            guard layerInodes.insert(id).inserted else { return }
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

    func checkLength(_ bytes: [UInt8], _ what: String) throws {
        guard bytes.count <= limits.maxPathLength else {
            throw LayerError.limitExceeded(
                layer: layer, path: String(currentPath.prefix(200)),
                limit: "\(what) is \(bytes.count) bytes, over \(limits.maxPathLength) (maxPathLength)")
        }
    }

    /// A new inode of `kind` with the entry's owner, permissions, time and xattrs.
    private func newInode(_ kind: InodeKind, _ entry: ArchiveEntry) -> Inode {
        var inode = Inode(kind: kind, permissions: 0)
        LayerModelBuilder.take(entry, into: &inode)
        inode.xattrs = xattrs(entry)
        return inode
    }

    /// Owner, permissions and time of `entry`.
    private static func take(_ entry: ArchiveEntry, into inode: inout Inode) {
        inode.uid = UInt32(entry.uid)
        inode.gid = UInt32(entry.gid)
        inode.permissions = UInt16(entry.permissions & 0o7777)
        inode.modificationTime = Timestamp(seconds: entry.mtimeSeconds, nanoseconds: entry.mtimeNanoseconds)
    }

    /// The entry's xattrs. An overlay layer drops the layer's own `trusted.overlay.*`: only the
    /// builder says what is opaque, and a redirect or metacopy from a tar could reach other layers.
    private func xattrs(_ entry: ArchiveEntry) -> [Xattr] {
        entry.xattrs.compactMap { xattr in
            if mode == .overlayLayer && xattr.name.hasPrefix(LayerModelBuilder.overlayXattrPrefix) { return nil }
            return Xattr(name: xattr.name, value: xattr.value)
        }
    }
}
