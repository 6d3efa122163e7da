import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The per-layer erofs disks of `erofs-layers`, stored once per diff_id and shared by every
/// image that has the layer:
///
/// ```
/// <directory>/<diff_id hex>.verity.erofs     with a dm-verity tree (salt from the diff_id)
/// <directory>/<diff_id hex>.erofs            without one
/// <directory>/.<name>.tmp-<random>           a disk being written (AtomicOutput)
/// ```
///
/// ``ensure(_:options:limits:)`` converts only the layers whose disk is not there yet. The
/// files are content-addressed and deterministic (``DiskExporter/exportLayerDisk(_:diffID:to:options:limits:)``),
/// so two builders converting the same layer at once each write their own temp file and rename
/// it into place: the renames are atomic and either result is the same bytes. A reused disk's
/// dm-verity figures are read back from the file (``VerityInfo/read(from:salt:)``); one that
/// does not carry the expected tree is converted again.
public struct LayerDiskStore: Sendable {
    /// Where the disks live (``DataLayout/layerDisks``).
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// The disk of layer `diffID`, with or without a dm-verity tree.
    public func path(diffID: Digest, verity: Bool) -> URL {
        directory.appendingPathComponent("\(diffID.encoded)\(verity ? ".verity" : "").erofs")
    }

    /// The disks of `layers` (each with its diff_id), bottom first, converting those missing.
    ///
    /// - Parameters:
    ///   - layers: the image's layers, base first; each needs its `diffID`.
    ///   - options: erofs compression and level, verity on or off.
    ///   - limits: bounds for hostile layers.
    /// - Returns: one ``LayerDisk`` per layer, base first; ``LayerDisk/converted`` says which
    ///   this call wrote.
    /// - Throws: ``DiskError/invalidOptions(format:reason:)`` for a layer without a diff_id,
    ///   what ``DiskExporter/exportLayerDisk(_:diffID:to:options:limits:)`` throws.
    public func ensure(_ layers: [LayerSource], options: ExportOptions, limits: LayerLimits = .default) async throws
        -> [LayerDisk]
    {
        let verity = options.appendsVerity(for: .erofs)
        var disks: [LayerDisk] = []
        for layer in layers {
            guard let diffID = layer.diffID else {
                throw DiskError.invalidOptions(format: .erofs, reason: "layer \(layer.digest) has no diff_id")
            }
            let path = self.path(diffID: diffID, verity: verity)
            if let existing = try await BlockingExecutor.shared.run({ Self.existing(path.path, diffID: diffID, verity: verity) }) {
                disks.append(existing)
                continue
            }
            let result = try await DiskExporter().exportLayerDisk(layer, diffID: diffID, to: path, options: options, limits: limits)
            disks.append(
                LayerDisk(
                    diffID: diffID, path: result.path, allocatedBytes: result.allocatedBytes,
                    apparentBytes: result.apparentBytes, verity: result.verity, converted: true))
        }
        return disks
    }

    /// The disk at `path` when it is a regular file carrying the expected tree (or, without
    /// verity, any regular file: the rename made it complete).
    private static func existing(_ path: String, diffID: Digest, verity: Bool) -> LayerDisk? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        var figures: VerityInfo?
        if verity {
            guard let read = VerityInfo.read(from: path, salt: Verity.salt(layerDiffID: diffID)) else { return nil }
            figures = read
        }
        return LayerDisk(
            diffID: diffID, path: path, allocatedBytes: UInt64(info.st_blocks) * 512, apparentBytes: UInt64(info.st_size),
            verity: figures, converted: false)
    }
}
