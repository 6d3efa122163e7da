import Foundation

extension LayerSource {
    /// Opens the blob as a tar stream that checks the diff_id at its end, naming the layer in
    /// the error.
    ///
    /// - Throws: ``LayerError/unreadable(layer:file:message:)`` when the file cannot be read,
    ///   ``LayerError/corruptArchive(layer:path:message:)``, ``LayerError/notATar(layer:looksLike:)``.
    func openArchive() throws(LayerError) -> ArchiveReader {
        do {
            return try ArchiveReader(file: file, mediaType: mediaType, expected: LayerDigests(diffID: diffID))
        } catch {
            throw error.layerError(layer: digest, path: nil)
        }
    }

    /// The blob's size in bytes (0 if it cannot be read): the unit of apply progress.
    var fileSize: Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? NSNumber)?.int64Value ?? 0
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
