import Foundation

/// One layer blob to apply: its digest (for messages), media type and file.
public struct LayerSource: Sendable, Equatable {
    /// The layer descriptor's digest.
    public var digest: Digest
    /// The layer descriptor's media type; decides nothing but whether it is a tar layer.
    public var mediaType: String
    /// The blob file (compressed or not, as the media type says).
    public var file: URL
    /// The digest the uncompressed tar must have (the config's `rootfs.diff_ids` entry for this
    /// layer); checked at the end of the layer, `nil` to skip the check.
    public var diffID: Digest?

    public init(digest: Digest, mediaType: String, file: URL, diffID: Digest? = nil) {
        self.digest = digest
        self.mediaType = mediaType
        self.file = file
        self.diffID = diffID
    }
}

extension LayerSource {
    /// The layer a manifest descriptor names, stored in `file`.
    public init(descriptor: Descriptor, file: URL) {
        self.init(digest: descriptor.digest, mediaType: descriptor.mediaType, file: file)
    }
}

extension PulledImage {
    /// The layers to apply, base first, each with its diff_id from the config.
    ///
    /// - Throws: `LayerError.diffIDCount` when `rootfs.diff_ids` does not list one diff_id per
    ///   manifest layer (a missing `rootfs` counts as none): such a config cannot be verified.
    public func layerSources() throws(LayerError) -> [LayerSource] {
        let diffIDs = configuration.rootfs?.diffIDs ?? []
        guard diffIDs.count == layers.count else { throw .diffIDCount(layers: layers.count, diffIDs: diffIDs.count) }
        return zip(layers, diffIDs).map { layer, diffID in
            LayerSource(
                digest: layer.descriptor.digest, mediaType: layer.descriptor.mediaType, file: layer.path, diffID: diffID)
        }
    }
}
