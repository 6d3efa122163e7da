import Foundation

extension DiskExporter {
    /// Appends the dm-verity tree to a finished ext4 or erofs temp file when `options` ask for
    /// one (``ExportOptions/appendsVerity(for:)``), before it is committed.
    ///
    /// - Returns: the tree's figures, or `nil` when the disk gets none.
    /// - Throws: ``DiskError/io(path:operation:errno:)``, `CancellationError`.
    static func appendVerity(to path: String, format: DiskFormat, options: ExportOptions, output: URL) async throws
        -> VerityInfo?
    {
        guard options.appendsVerity(for: format) else { return nil }
        let salt = options.veritySalt ?? Verity.salt(name: output.lastPathComponent)
        return try await VerityTreeWriter(salt: salt).append(to: path)
    }
}
