import Foundation

extension DiskExporter {
    /// Appends the dm-verity tree to a finished ext4 or erofs temp file when `salt` is given
    /// (``ExportOptions/verityTreeSalt(for:output:)``), before it is committed.
    ///
    /// - Parameter levelZero: the hashes the writer recorded as it wrote the blocks
    ///   (``recordedLevelZero(of:)``); `nil` reads the file again.
    /// - Returns: the tree's figures, or `nil` when the disk gets none.
    /// - Throws: ``DiskError/io(path:operation:errno:)``, `CancellationError`.
    static func appendVerity(to path: String, salt: [UInt8]?, levelZero: SpoolFile?) async throws -> VerityInfo? {
        guard let salt else { return nil }
        return try await VerityTreeWriter(salt: salt).append(to: path, levelZero: levelZero)
    }

    /// The block hashes `writer` recorded (``VerityLevelZeroSource``), once all are written;
    /// `nil` for a writer that records none. Blocking: call it after `finish(model:)`, on the
    /// thread that ran it.
    static func recordedLevelZero(of writer: any DiskImageWriter) throws(DiskError) -> SpoolFile? {
        try (writer as? any VerityLevelZeroSource)?.verityLevelZero()
    }
}
