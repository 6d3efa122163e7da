/// Directory components resolve through symlinks inside the rootfs, as containerd
/// (continuity's `fs.RootPath`) and umoci (`securejoin`) resolve them:
///
/// - a symlink met as a directory component is replaced by its target's components: an
///   absolute target starts again at the rootfs root, a relative one at the symlink's directory;
/// - `..` goes to the parent and clamps at the root, so no path ever leaves the rootfs;
/// - more than 255 symlinks on one path (the limit of securejoin) is a loop and refused;
/// - a missing directory is created (0755, root:root, time 0) when writing, and means "not
///   there" otherwise (whiteouts, hardlink targets);
/// - the final component of an entry is never followed: a file over a symlink replaces the symlink.
///
/// `lib -> usr/lib` plus an entry `lib/x` writes `usr/lib/x`; `bin -> /usr/bin` plus `bin/y`
/// writes `usr/bin/y`; a symlink to `/` or to `../../..` writes inside the rootfs.
extension LayerModelBuilder {
    /// The most symlinks one path may follow.
    static let maxSymlinks = 255

    /// Resolves `components` to a directory of the model.
    ///
    /// - Returns: the chain of directory inodes from the root to the resolved directory (the
    ///   real path: symlinks and `..` already applied), or `nil` when a component is missing
    ///   and `create` is off.
    /// - Throws: ``LayerError/notADirectory(layer:path:component:)`` for a component that is
    ///   neither a directory nor a symlink, ``LayerError/symlinkLoop(layer:path:component:)``.
    func resolve(_ components: ArraySlice<[UInt8]>, create: Bool) throws -> [InodeID]? {
        var chain: [InodeID] = [.root]
        var names: [[UInt8]] = []
        var pending: [[UInt8]] = components.reversed()
        var followed = 0
        while let component = pending.popLast() {
            if component.isEmpty || component == [0x2E] { continue }
            if component == [0x2E, 0x2E] {
                if chain.count > 1 {
                    chain.removeLast()
                    names.removeLast()
                }
                continue
            }
            let directory = chain[chain.count - 1]
            guard let child = model.lookup(component, in: directory) else {
                guard create else { return nil }
                chain.append(model.insert(Inode(kind: .directory, permissions: 0o755), named: component, in: directory))
                names.append(component)
                continue
            }
            let inode = model[child]
            switch inode.kind {
            case .directory:
                chain.append(child)
                names.append(component)
            case .symlink:
                followed += 1
                guard followed <= LayerModelBuilder.maxSymlinks, !inode.symlinkTarget.isEmpty else {
                    throw LayerError.symlinkLoop(layer: layer, path: currentPath, component: display(names + [component]))
                }
                if inode.symlinkTarget.first == 0x2F {
                    chain = [.root]
                    names = []
                }
                for part in inode.symlinkTarget.split(separator: 0x2F, omittingEmptySubsequences: true).reversed() {
                    pending.append(Array(part))
                }
            case .characterDevice where isWhiteoutDevice(child):
                // Overlay mode: this layer whited the name out and now writes below it.
                guard create else { return nil }
                chain.append(replaceWhiteout(component, in: directory))
                names.append(component)
            default:
                throw LayerError.notADirectory(layer: layer, path: currentPath, component: display(names + [component]))
            }
        }
        return chain
    }

    private func display(_ components: [[UInt8]]) -> String {
        ArchiveEntry.display(EntryPath.key(components))
    }
}
