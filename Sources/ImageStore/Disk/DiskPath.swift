import Foundation

extension DataLayout {
    /// Where the disk of one image in one format lives: the Go original's `GetDiskPath`.
    ///
    /// ```
    /// <root>/disks/<registry>/<repository path>/<manifest digest hex>[.verity].<format>
    /// e.g. disks/docker.io/library/alpine/3f5a….verity.ext4 (with a dm-verity tree)
    ///      disks/docker.io/library/alpine/3f5a….ext4        (without: verity = 0, cpio)
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
    ///   - verity: the disk carries a dm-verity tree. A disk with a tree and one without are
    ///     different files, and disks built before verity existed keep the plain name.
    /// - Returns: the disk's path.
    public func diskPath(
        for reference: ImageReference, manifestDigest: Digest, format: DiskFormat, verity: Bool = false
    ) -> URL {
        disks.appendingPathComponent(reference.registry, isDirectory: true)
            .appendingPathComponent(reference.path, isDirectory: true)
            .appendingPathComponent(
                "\(manifestDigest.encoded)\(verity ? ".verity" : "").\(format.fileExtension)")
    }
}
