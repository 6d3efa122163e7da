/// One layer as an overlayfs lower directory (Documentation/filesystems/overlayfs.rst,
/// "whiteouts and opaque directories"), for the per-layer disks of `erofs-layers`.
///
/// The model holds exactly what the layer's tar holds, never merged with a lower layer:
/// - `DIR/.wh.NAME` becomes a character device `DIR/NAME` with device number 0/0 (mode 0,
///   root:root, time 0): overlayfs hides `NAME` of every lower layer. When the layer also writes
///   `NAME` itself, its entry wins, as in the merged model: a file replaces the whiteout, a
///   directory takes its place and is made opaque (it hid the lower `NAME`, children included),
///   whatever the order of the two entries in the tar;
/// - `DIR/.wh..wh..opq` sets `trusted.overlay.opaque` = `y` on `DIR`: the lower layers'
///   children of `DIR` are hidden;
/// - parents of markers are created like any parent (0755 root:root, time 0), since the lower
///   layer's directory is not known here; `trusted.overlay.*` xattrs of the tar itself are dropped.
///
/// Paths resolve through this layer's own symlinks only: the lower layers are not known, so a
/// layer that writes through a symlink of a lower layer (`lib -> usr/lib` below, `lib/x` here)
/// gets a directory `lib` here, which overlayfs shows over the symlink. Image builders write real
/// paths, never through symlinks; the merged formats resolve through them.
///
/// A hardlink to a file of a lower layer needs that file in this layer (one erofs disk cannot
/// link into another): built without its lower layers, such a layer is refused
/// (``LayerError/invalidHardlink(layer:path:target:reason:)``, ``needsLowerLayers`` set); built
/// over them, the target is copied up first (`LayerModelBuilder+CopyUp.swift`).
extension LayerModelBuilder {
    /// Whether layers are merged into one filesystem or each kept on its own.
    enum Mode: Sendable, Equatable {
        /// Every layer applied onto the ones below: the image's filesystem (ext4, erofs, cpio).
        case merged
        /// One layer alone, whiteouts and opaque markers kept for overlayfs (`erofs-layers`).
        case overlayLayer
    }

    /// The xattr overlayfs reads to hide a lower directory's children.
    static let opaqueXattr = "trusted.overlay.opaque"
    /// Every xattr overlayfs interprets starts with this.
    static let overlayXattrPrefix = "trusted.overlay."

    /// `.wh.NAME` in the directory `parent`: a 0/0 character device, unless the layer wrote `NAME`.
    func overlayWhiteout(_ name: [UInt8], parent: ArraySlice<[UInt8]>) throws {
        guard let chain = try resolve(parent, create: true) else { return }
        let directory = chain[chain.count - 1]
        markWritten(chain)
        if isCopiedUp(name, in: directory) {
            // Lower content a hardlink of this layer copied up: the link keeps the inode.
            clear(directory, name)
        } else if let existing = model.lookup(name, in: directory) {
            if model[existing].kind == .directory {
                makeOpaque(existing)
                dropCopiedUp(below: existing)
            }
            return
        }
        whiteoutDevices.insert(model.insert(Inode(kind: .characterDevice, permissions: 0), named: name, in: directory))
    }

    /// Whether `id` is a whiteout device this builder made.
    func isWhiteoutDevice(_ id: InodeID?) -> Bool {
        guard mode == .overlayLayer, let id else { return false }
        return whiteoutDevices.contains(id)
    }

    /// Replaces the whiteout device `name` of `directory` with an opaque directory (0755
    /// root:root, time 0) and returns it: the layer writes below a name it whited out.
    func replaceWhiteout(_ name: [UInt8], in directory: InodeID) -> InodeID {
        clear(directory, name)
        let replacement = model.insert(Inode(kind: .directory, permissions: 0o755), named: name, in: directory)
        makeOpaque(replacement)
        return replacement
    }

    /// Sets `trusted.overlay.opaque` = `y` on the directory `id`.
    func makeOpaque(_ id: InodeID) {
        var inode = model[id]
        inode.xattrs.append(Xattr(name: LayerModelBuilder.opaqueXattr, value: [UInt8(ascii: "y")]))
        model[id] = inode
    }
}
