import Foundation

/// Reads a layer blob to its end without applying it: inflate only, or every tar entry and
/// data block as an applier reads them, with the diff_id checked (what `inflate-bench` times).
public enum LayerScan {
    /// What one scan read.
    public struct Result: Sendable, Equatable {
        /// The uncompressed stream's digest (the diff_id).
        public var diffID: Digest
        /// Uncompressed bytes (inflate only) or data bytes of the entries (tar scan).
        public var bytes: Int64
        /// Tar entries read; 0 for an inflate-only scan.
        public var entries: Int
    }

    /// Inflates `layer`'s blob to its end on the calling thread, hashing it (no tar parsing).
    ///
    /// - Returns: the diff_id and the uncompressed size.
    /// - Throws: ``LayerError`` (`.unreadable`, `.corruptArchive`, `.digestMismatch` when
    ///   ``LayerSource/diffID`` is set and differs).
    public static func inflate(_ layer: LayerSource) throws(LayerError) -> Result {
        do throws(LayerReadFailure) {
            let stream = try LayerStream(file: layer.file, mediaType: layer.mediaType, expected: LayerDigests(diffID: layer.diffID))
            try stream.drain()
            guard let diffID = stream.digests.diffID else {
                throw .corrupt("inflate", "the stream ended without a digest")
            }
            return Result(diffID: diffID, bytes: stream.uncompressedBytes, entries: 0)
        } catch {
            throw error.layerError(layer: layer.digest, path: nil)
        }
    }

    /// Reads every entry header and data block of `layer` through ``ArchiveReader``, inflating on
    /// a thread of its own when `threaded` (``InflatePipe``), and checks the diff_id at the end.
    ///
    /// - Returns: the diff_id, the entries' data bytes and the entry count.
    /// - Throws: ``LayerError`` as an apply of the layer would (`.malformedHeader`, `.notATar`,
    ///   `.corruptArchive`, `.digestMismatch`, `.unreadable`).
    public static func tar(_ layer: LayerSource, threaded: Bool = true) throws(LayerError) -> Result {
        var lastPath: String?
        var bytes: Int64 = 0
        var entries = 0
        do throws(LayerReadFailure) {
            let reader = try ArchiveReader(
                file: layer.file, mediaType: layer.mediaType, expected: LayerDigests(diffID: layer.diffID),
                threaded: threaded)
            while let entry = try reader.next() {
                lastPath = entry.displayPath
                entries += 1
                do {
                    try reader.readData { _, block in bytes += Int64(block.count) }
                } catch let failure as LayerReadFailure {
                    throw failure
                } catch {
                    throw .corrupt("read data", "\(error)")
                }
            }
            guard let diffID = reader.digests.diffID else {
                throw .corrupt("read", "the stream ended without a digest")
            }
            return Result(diffID: diffID, bytes: bytes, entries: entries)
        } catch {
            throw error.layerError(layer: layer.digest, path: lastPath)
        }
    }
}
