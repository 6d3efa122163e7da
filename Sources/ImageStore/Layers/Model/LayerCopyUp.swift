/// What an overlay-layer build copies up from its lower layers (`LayerModelBuilder+CopyUp.swift`):
/// the lower layers merged, and which upper inodes and entries came from them.
///
/// The lower model's contents are the ids of the sink that built it, not of the upper model's
/// sink: an upper copy of a regular file has no content until the caller stores the lower
/// bytes (``contentSources``) and sets it.
///
/// A class: the builder and its copy-up code share one instance, changed in place.
final class LayerCopyUp {
    /// Layers 0..k-1 merged, as the merged builder makes them.
    let lower: FilesystemModel
    /// Upper copy of each lower inode copied up: one per lower inode, so a lower hardlink
    /// group stays one group.
    private(set) var copies: [InodeID: InodeID] = [:]
    /// The lower inode each upper copy came from.
    private(set) var sources: [InodeID: InodeID] = [:]
    /// Upper entries a copy-up made (copied files and the directories made for them): lower
    /// content for whiteouts and opaque markers of this layer, unless the layer wrote them.
    var entries: Set<LayerModelBuilder.EntryKey> = []
    /// Every path of each lower inode with more than one link, made on first use.
    private var lowerPaths: [InodeID: [[[UInt8]]]]?

    init(lower: FilesystemModel) {
        self.lower = lower
    }

    /// The upper copy of `lowerInode`, if it was copied up.
    func copy(of lowerInode: InodeID) -> InodeID? {
        copies[lowerInode]
    }

    func record(copy upper: InodeID, of lowerInode: InodeID) {
        copies[lowerInode] = upper
        sources[upper] = lowerInode
    }

    /// Drops upper inodes the model freed (their ids are handed out again).
    func forget(_ freed: Set<InodeID>) {
        for upper in freed {
            if let lowerInode = sources.removeValue(forKey: upper) { copies[lowerInode] = nil }
        }
        if !entries.isEmpty { entries = entries.filter { !freed.contains($0.directory) } }
    }

    /// Every path (components from the root) of the lower inode `id`, which has several links.
    func paths(of id: InodeID) -> [[[UInt8]]] {
        if lowerPaths == nil {
            var found: [InodeID: [[[UInt8]]]] = [:]
            var directories: [InodeID: [[UInt8]]] = [.root: []]
            lower.walk { parent, name, inode in
                let path = (directories[parent] ?? []) + [name]
                let node = lower[inode]
                if node.kind == .directory {
                    directories[inode] = path
                } else if node.linkCount > 1 {
                    found[inode, default: []].append(path)
                }
            }
            lowerPaths = found
        }
        return lowerPaths?[id] ?? []
    }

    /// The lower content behind each upper copy of a regular file that is still in the model,
    /// by the lower sink's content id.
    func contentSources() -> [ContentID: [InodeID]] {
        var wanted: [ContentID: [InodeID]] = [:]
        for (upper, lowerInode) in sources {
            if let content = lower[lowerInode].content { wanted[content, default: []].append(upper) }
        }
        return wanted
    }
}
