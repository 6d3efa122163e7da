/// Hardlinks to files of lower layers in an overlay-layer build, copied up as containerd's
/// overlay snapshotter does: containerd applies layer k onto the overlay mount of layers
/// 0..k-1, so `link(lower/t, upper/n)` copies `t` up into the new layer first.
///
/// Given the lower layers merged (``LayerCopyUp/lower``), a hardlink target resolves in the
/// overlay of this layer (so far) over them, as the kernel would show it:
/// - this layer's entry wins; its whiteout device hides the lower name; its opaque directory
///   hides every lower child; in-root symlinks of either side are followed;
/// - a lower file is copied up to its own path: missing upper parents are made with the lower
///   directories' metadata (not opaque, so the rest of the lower directory still shows), the
///   file with its mode, owner, time and xattrs and the lower content (set by the caller, see
///   ``LayerCopyUp/contentSources()``). One upper inode per lower inode: every other visible
///   lower name of a hardlinked file is copied up to the same inode, so a lower hardlink group
///   stays one group with the link added, as in the merged model;
/// - then the link is made to the upper copy.
///
/// Whiteouts apply in the merged model whatever their order in the tar, but only to what the
/// lower layers left: a target whited out earlier in the layer does not exist (refused as in
/// the merged model), and a whiteout or opaque marker later in the layer removes the copied-up
/// entries (the lower content) while the layer's own links keep the inode.
extension LayerModelBuilder {
    /// One directory of a path in the overlay: this layer's and the lower layers' directory of
    /// that name (either may be missing, not both), by its name in the parent.
    struct OverlayDirectory {
        var upper: InodeID?
        var lower: InodeID?
        var name: [UInt8]
    }

    /// One entry of the overlay: this layer's inode, else the lower one's.
    struct OverlayEntry {
        var upper: InodeID?
        var lower: InodeID?
    }

    /// The inode the link names, copied up from the lower layers when only they have it and
    /// `copyingUp` is on; `nil` when the overlay has no such entry.
    ///
    /// - Throws: ``LayerError/invalidHardlink(layer:path:target:reason:)`` for a lower
    ///   directory, what ``overlayResolve(_:)`` throws.
    func overlayLinkTarget(_ target: [[UInt8]], shown: String, copyingUp: Bool) throws -> InodeID? {
        guard let state = copyUp, let name = target.last, let chain = try overlayResolve(target.dropLast()),
            let entry = overlayLookup(name, in: chain[chain.count - 1])
        else { return nil }
        if let upper = entry.upper { return upper }
        guard copyingUp, let lowerInode = entry.lower else { return nil }
        guard state.lower[lowerInode].kind != .directory else {
            throw LayerError.invalidHardlink(layer: layer, path: currentPath, target: shown, reason: "the target is a directory")
        }
        guard let upper = copyUpFile(lowerInode, at: chain, name, state: state) else { return nil }
        guard state.lower[lowerInode].linkCount > 1 else { return upper }
        let here = chain.dropFirst().map(\.name) + [name]
        for path in state.paths(of: lowerInode) where path != here {
            guard let last = path.last, let others = try overlayResolve(path.dropLast()),
                let other = overlayLookup(last, in: others[others.count - 1]),
                other.upper == nil, other.lower == lowerInode
            else { continue }
            _ = copyUpFile(lowerInode, at: others, last, state: state)
        }
        return upper
    }

    /// Links the upper copy of `lowerInode` (made now if needed) as `name` below `chain`,
    /// making the chain's missing upper directories.
    private func copyUpFile(_ lowerInode: InodeID, at chain: [OverlayDirectory], _ name: [UInt8], state: LayerCopyUp)
        -> InodeID?
    {
        guard let parent = copyUpDirectories(chain.dropFirst(), state: state) else { return nil }
        let upper: InodeID
        if let existing = state.copy(of: lowerInode) {
            upper = existing
            model.link(upper, in: parent, named: name)
        } else {
            var inode = state.lower[lowerInode]
            inode.content = nil
            inode.xattrs = inode.xattrs.filter { !$0.name.hasPrefix(LayerModelBuilder.overlayXattrPrefix) }
            upper = model.insert(inode, named: name, in: parent)
            state.record(copy: upper, of: lowerInode)
        }
        state.entries.insert(EntryKey(directory: parent, name: name))
        return upper
    }

    /// The upper directory at the end of `levels` (the root's children first), making each
    /// missing one from its lower directory's metadata.
    private func copyUpDirectories(_ levels: ArraySlice<OverlayDirectory>, state: LayerCopyUp) -> InodeID? {
        var parent = InodeID.root
        for level in levels {
            if let upper = level.upper {
                parent = upper
                continue
            }
            guard let lowerDirectory = level.lower else { return nil }
            var inode = state.lower[lowerDirectory]
            inode.xattrs = inode.xattrs.filter { !$0.name.hasPrefix(LayerModelBuilder.overlayXattrPrefix) }
            let made = model.insert(inode, named: level.name, in: parent)
            state.entries.insert(EntryKey(directory: parent, name: level.name))
            parent = made
        }
        return parent
    }

    /// Resolves directory components in the overlay, in-root symlinks of either side followed
    /// as ``resolve(_:create:)`` follows them; `nil` when a component is missing, whited out
    /// or not a directory.
    func overlayResolve(_ components: ArraySlice<[UInt8]>) throws -> [OverlayDirectory]? {
        guard let state = copyUp else { return nil }
        let root = OverlayDirectory(upper: .root, lower: isOpaque(.root) ? nil : .root, name: [])
        var chain = [root]
        var pending: [[UInt8]] = components.reversed()
        var followed = 0
        while let component = pending.popLast() {
            if component.isEmpty || component == [0x2E] { continue }
            if component == [0x2E, 0x2E] {
                if chain.count > 1 { chain.removeLast() }
                continue
            }
            guard let entry = overlayLookup(component, in: chain[chain.count - 1]) else { return nil }
            let inode = entry.upper.map { model[$0] } ?? entry.lower.map { state.lower[$0] }
            switch inode?.kind {
            case .directory:
                chain.append(OverlayDirectory(upper: entry.upper, lower: entry.lower, name: component))
            case .symlink:
                let target = inode?.symlinkTarget ?? []
                followed += 1
                guard followed <= LayerModelBuilder.maxSymlinks, !target.isEmpty else {
                    throw LayerError.symlinkLoop(layer: layer, path: currentPath, component: ArchiveEntry.display(component))
                }
                if target.first == 0x2F { chain = [root] }
                for part in target.split(separator: 0x2F, omittingEmptySubsequences: true).reversed() {
                    pending.append(Array(part))
                }
            default:
                return nil
            }
        }
        return chain
    }

    /// The entry `name` of `directory` in the overlay. An upper directory over a lower one
    /// carries both (the lower one unless the upper is opaque); `nil` when neither side has
    /// the name or this layer whited it out.
    func overlayLookup(_ name: [UInt8], in directory: OverlayDirectory) -> OverlayEntry? {
        guard let state = copyUp else { return nil }
        let below = directory.lower.flatMap { state.lower.lookup(name, in: $0) }
        if let upper = directory.upper.flatMap({ model.lookup(name, in: $0) }) {
            if isWhiteoutDevice(upper) { return nil }
            guard model[upper].kind == .directory, !isOpaque(upper), let below, state.lower[below].kind == .directory else {
                return OverlayEntry(upper: upper, lower: nil)
            }
            return OverlayEntry(upper: upper, lower: below)
        }
        return below.map { OverlayEntry(upper: nil, lower: $0) }
    }

    /// Whether this layer made the directory `id` opaque.
    func isOpaque(_ id: InodeID) -> Bool {
        model[id].xattrs.contains { $0.name == LayerModelBuilder.opaqueXattr }
    }

    /// A whiteout or opaque marker of this layer hides the lower content below `directory`:
    /// removes the copied-up entries there (the layer's links keep their inodes), keeping the
    /// directories this layer wrote or wrote into.
    func dropCopiedUp(below directory: InodeID) {
        guard let state = copyUp, !state.entries.isEmpty else { return }
        var pending = [directory]
        while let current = pending.popLast() {
            for child in model.children(of: current) {
                let isDirectory = model[child.inode].kind == .directory
                if state.entries.contains(EntryKey(directory: current, name: child.name)),
                    !(isDirectory && layerInodes.contains(child.inode))
                {
                    clear(current, child.name)
                } else if isDirectory {
                    pending.append(child.inode)
                }
            }
        }
    }

    /// Whether the entry `name` of `directory` is lower content a copy-up brought (not
    /// something this layer wrote).
    func isCopiedUp(_ name: [UInt8], in directory: InodeID) -> Bool {
        guard let state = copyUp, let child = model.lookup(name, in: directory),
            state.entries.contains(EntryKey(directory: directory, name: name))
        else { return false }
        return !(model[child].kind == .directory && layerInodes.contains(child))
    }
}
