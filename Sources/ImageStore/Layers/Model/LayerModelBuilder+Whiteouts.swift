/// Whiteouts (OCI image-spec layer.md, "Whiteouts"), on the model.
///
/// - `DIR/.wh.NAME` removes `DIR/NAME` as the lower layers left it.
/// - `DIR/.wh..wh..opq` hides every lower-layer child of `DIR`, wherever it sits in the tar.
/// - Neither removes what this layer wrote: an inode this layer created, a hardlink entry it
///   made, or a directory it wrote or wrote into is kept, and of such a directory only the
///   lower-layer children go; so the result is the same whether the marker comes before or
///   after the layer's own entries.
/// - The marker's directory resolves like any parent (in-root symlinks followed) and need not
///   have an entry in the tar. A `.wh.NAME` whose directory does not exist changes nothing; an
///   opaque marker creates its directory (the layer says it exists).
/// - A directory component named `.wh.*` is refused: the prefix is reserved.
/// - Other `.wh..wh.` names (aufs metadata such as `.wh..wh.plnk`) are ignored; whiteout files
///   never appear in the result.
extension LayerModelBuilder {
    static let whiteoutPrefix: [UInt8] = Array(".wh.".utf8)
    private static let opaqueMarker: [UInt8] = Array(".wh..wh..opq".utf8)
    private static let metadataPrefix: [UInt8] = Array(".wh..wh.".utf8)

    /// Handles an entry whose last component starts with `.wh.`.
    func whiteout(_ components: [[UInt8]]) throws {
        guard let base = components.last else { return }
        statistics.whiteouts += 1
        if base == LayerModelBuilder.opaqueMarker {
            guard let chain = try resolve(components.dropLast(), create: true) else { return }
            let directory = chain[chain.count - 1]
            if mode == .overlayLayer {
                makeOpaque(directory)
                dropCopiedUp(below: directory)
                markWritten(chain)
                return
            }
            for child in model.children(of: directory) {
                removeLower(child.name, in: directory)
            }
            // The opaque directory belongs to this layer: a later whiteout of it keeps it.
            markWritten(chain)
            return
        }
        if base.starts(with: LayerModelBuilder.metadataPrefix) { return }
        let name = Array(base.dropFirst(LayerModelBuilder.whiteoutPrefix.count))
        guard !name.isEmpty, name != [0x2E], name != [0x2E, 0x2E] else {
            throw LayerError.unsafePath(
                layer: layer, path: currentPath, reason: "a whiteout must name an entry other than \".\" or \"..\"")
        }
        if mode == .overlayLayer {
            try overlayWhiteout(name, parent: components.dropLast())
            return
        }
        guard let chain = try resolve(components.dropLast(), create: false) else { return }
        removeLower(name, in: chain[chain.count - 1])
    }

    /// Removes `name` unless this layer wrote it; of a directory this layer wrote or wrote
    /// into, removes only the lower-layer children.
    private func removeLower(_ name: [UInt8], in directory: InodeID) {
        var pending = [(directory, name)]
        while let (parent, entry) = pending.popLast() {
            guard let child = model.lookup(entry, in: parent) else { continue }
            guard layerInodes.contains(child) || layerLinks.contains(EntryKey(directory: parent, name: entry)) else {
                clear(parent, entry)
                continue
            }
            guard model[child].kind == .directory else { continue }
            for grandchild in model.children(of: child) { pending.append((child, grandchild.name)) }
        }
    }
}
