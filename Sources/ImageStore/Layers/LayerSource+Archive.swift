import Foundation

extension LayerSource {
    /// Opens the blob as a tar stream that checks the diff_id at its end, naming the layer in
    /// the error.
    ///
    /// - Throws: ``LayerError/unreadable(layer:file:message:)`` when the file cannot be read,
    ///   ``LayerError/corruptArchive(layer:path:message:)``, ``LayerError/notATar(layer:looksLike:)``.
    /// - Parameter follow: the blob while it downloads (``BlobFollow``), read as it grows.
    func openArchive(follow: BlobFollow? = nil) throws(LayerError) -> ArchiveReader {
        do {
            return try ArchiveReader(
                file: file, mediaType: mediaType, expected: LayerDigests(diffID: diffID), follow: follow)
        } catch {
            throw error.layerError(layer: digest, path: nil)
        }
    }

    /// Refuses the first layer whose media type is not a tar layer.
    ///
    /// - Throws: ``LayerError/unsupportedMediaType(layer:mediaType:)``.
    static func checkMediaTypes(_ layers: [LayerSource]) throws(LayerError) {
        for layer in layers where MediaType.layerCompression(layer.mediaType) == nil {
            throw .unsupportedMediaType(layer: layer.digest, mediaType: layer.mediaType)
        }
    }
}
