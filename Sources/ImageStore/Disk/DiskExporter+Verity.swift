import Foundation

extension DiskExporter {
    /// Appends the dm-verity tree to a finished ext4 or erofs temp file when `salt` is given
    /// (``ExportOptions/verityTreeSalt(for:output:)``), before it is committed.
    ///
    /// - Parameter writer: the writer that wrote the file; when it hashed the blocks as it
    ///   wrote them (``VerityLevelZeroSource``) level 0 is copied from there, else the file is
    ///   read again.
    /// - Returns: the tree's figures, or `nil` when the disk gets none.
    /// - Throws: ``DiskError/io(path:operation:errno:)``, `CancellationError`.
    static func appendVerity(to path: String, salt: [UInt8]?, writer: any DiskImageWriter) async throws -> VerityInfo? {
        guard let salt else { return nil }
        let levelZero = try (writer as? any VerityLevelZeroSource)?.verityLevelZero()
        return try await VerityTreeWriter(salt: salt).append(to: path, levelZero: levelZero)
    }
}
