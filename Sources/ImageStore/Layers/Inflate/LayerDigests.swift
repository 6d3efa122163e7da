/// The two digests of a layer: of the blob as stored (compressed) and of the tar inside it
/// (the diff_id of the image config's `rootfs.diff_ids`).
struct LayerDigests: Sendable, Equatable {
    /// The descriptor digest of the blob; `nil` when not checked (the content store verified it).
    var blob: Digest?
    /// The uncompressed tar's digest; `nil` when not checked.
    var diffID: Digest?

    init(blob: Digest? = nil, diffID: Digest? = nil) {
        self.blob = blob
        self.diffID = diffID
    }
}
