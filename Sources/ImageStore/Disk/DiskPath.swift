import Foundation

extension DataLayout {
    /// Where the disk of one image in one format lives: the Go original's `GetDiskPath`.
    ///
    /// ```
    /// <root>/disks/<registry>/<repository path>/<manifest digest hex>.<format>
    /// e.g. disks/docker.io/library/alpine/3f5a….ext4
    /// ```
    ///
    /// Deterministic: the same image and format always map to the same file, so a finished disk
    /// is found again without the database. The repository comes from a validated
    /// ``ImageReference`` (lowercase alphanumeric components joined by `/`, a host[:port]), so
    /// it cannot hold `..` or an absolute path and the result stays below ``disks``.
    ///
    /// - Parameters:
    ///   - reference: the image; only its repository is used, tag and digest are not.
    ///   - manifestDigest: the platform manifest's digest.
    ///   - format: the disk format, which is also the extension.
    /// - Returns: the disk's path.
    public func diskPath(for reference: ImageReference, manifestDigest: Digest, format: DiskFormat) -> URL {
        disks.appendingPathComponent(reference.registry, isDirectory: true)
            .appendingPathComponent(reference.path, isDirectory: true)
            .appendingPathComponent("\(manifestDigest.encoded).\(format.fileExtension)")
    }
}
