import Foundation

extension LayerSource {
    /// Opens the blob as a tar stream, naming the layer in the error.
    ///
    /// - Throws: ``LayerError/unreadable(layer:file:message:)`` when the file cannot be read,
    ///   ``LayerError/corruptArchive(layer:path:message:)`` when libarchive refuses it.
    func openArchive() throws(LayerError) -> ArchiveReader {
        do {
            return try ArchiveReader(file: file)
        } catch {
            guard FileManager.default.isReadableFile(atPath: file.path) else {
                throw .unreadable(layer: digest, file: file.path, message: error.message)
            }
            throw .corruptArchive(layer: digest, path: nil, message: error.message)
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
