import Foundation

/// One layer blob to apply: its digest (for messages), media type and file.
public struct LayerSource: Sendable, Equatable {
    /// The layer descriptor's digest.
    public var digest: Digest
    /// The layer descriptor's media type; decides nothing but whether it is a tar layer.
    public var mediaType: String
    /// The blob file (compressed or not, as the media type says).
    public var file: URL

    public init(digest: Digest, mediaType: String, file: URL) {
        self.digest = digest
        self.mediaType = mediaType
        self.file = file
    }
}

extension LayerSource {
    /// The layer a manifest descriptor names, stored in `file`.
    public init(descriptor: Descriptor, file: URL) {
        self.init(digest: descriptor.digest, mediaType: descriptor.mediaType, file: file)
    }
}
