/// Whiteouts (OCI image-spec layer.md, "Whiteouts").
///
/// - `DIR/.wh.NAME` removes `DIR/NAME` as the lower layers left it.
/// - `DIR/.wh..wh..opq` hides every lower-layer child of `DIR`, wherever it sits in the tar.
/// - Neither removes what this layer wrote (``LayerUnpack/written``): a directory this layer
///   wrote or wrote into is kept and only its lower-layer children go, so the result is the
///   same whether the marker comes before or after the layer's own entries.
/// - The marker's parent need not have an entry in the tar. A `.wh.NAME` whose parent does not
///   exist has nothing to hide and changes nothing; an opaque marker creates its directory
///   (the layer says it exists). A parent reached through a symlink is refused.
/// - A directory component named `.wh.*` is refused: the prefix is reserved.
/// - Other `.wh..wh.` names (aufs metadata such as `.wh..wh.plnk`) are ignored; whiteout files
///   never appear in the result.
extension LayerUnpack {
    static let whiteoutPrefix: [UInt8] = Array(".wh.".utf8)
    private static let opaqueMarker: [UInt8] = Array(".wh..wh..opq".utf8)
    private static let metadataPrefix: [UInt8] = Array(".wh..wh.".utf8)

    /// Handles an entry whose last component starts with `.wh.`.
    func whiteout(_ components: [[UInt8]]) throws {
        guard let base = components.last else { return }
        let parentComponents = Array(components.dropLast())
        statistics.whiteouts += 1
        if base == LayerUnpack.opaqueMarker {
            let directory = try resolve(parentComponents[...], create: true)
            for child in try fs({ try root.children(of: directory) }) {
                try removeLower(parentComponents + [child], in: directory, child)
            }
            // The opaque directory belongs to this layer: a later whiteout of it keeps it.
            markWritten(parentComponents)
            return
        }
        if base.starts(with: LayerUnpack.metadataPrefix) { return }
        let name = Array(base.dropFirst(LayerUnpack.whiteoutPrefix.count))
        guard !name.isEmpty, name != [0x2E], name != [0x2E, 0x2E] else {
            throw LayerError.unsafePath(
                layer: layer, path: currentPath, reason: "a whiteout must name an entry other than \".\" or \"..\"")
        }
        guard let directory = try fs({ try root.directory(parentComponents[...], create: false) }) else { return }
        try removeLower(parentComponents + [name], in: directory, name)
    }

    /// Removes `name` unless this layer wrote it; of a directory this layer wrote or wrote
    /// into, removes only the lower-layer children.
    private func removeLower(_ components: [[UInt8]], in directory: OpenDescriptor, _ name: [UInt8]) throws {
        guard let kind = try fs({ try root.kind(in: directory, name) }) else { return }
        let key = EntryPath.key(components)
        guard written.contains(key) || ancestors.contains(key) else {
            try fs { try root.removeTree(in: directory, name) }
            return
        }
        guard kind == .directory else { return }
        let inner = try fs { try root.child(name, of: directory) }
        for child in try fs({ try root.children(of: inner) }) {
            try removeLower(components + [child], in: inner, child)
        }
    }
}
