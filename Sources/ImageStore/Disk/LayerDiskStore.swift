import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The per-layer erofs disks of `erofs-layers`, stored once per diff_id and shared by every
/// image that has the layer; a layer that hardlinks a file of a lower layer gets a disk over
/// its lower layers instead, stored once per ChainID:
///
/// ```
/// <directory>/<diff_id hex>.verity.erofs         with a dm-verity tree (salt from the diff_id)
/// <directory>/<diff_id hex>.erofs                without one
/// <directory>/<chain_id hex>.chain.verity.erofs  a layer over its lower layers (salt from the ChainID)
/// <directory>/<chain_id hex>.chain.erofs         the same without a tree
/// <directory>/.<name>.tmp-<random>               a disk being written (AtomicOutput)
/// ```
///
/// ``ensure(_:options:limits:)`` converts only the layers that have neither disk yet. A layer
/// is first built alone; only when one of its hardlinks names a file it does not have is it
/// built again over its lower layers, copying the target up
/// (``DiskExporter/exportLayerDisk(_:over:chainID:to:options:limits:)``). Such a disk holds
/// lower content, so it is keyed by the ChainID of layers 0..k (``ChainID/of(_:)``): the same
/// layer over other lower layers is another disk, while self-contained layers stay shared
/// across images whatever their lower layers.
///
/// The files are content-addressed and deterministic, so two builders converting the same
/// layer at once each write their own temp file and rename it into place: the renames are
/// atomic and either result is the same bytes. A reused disk's dm-verity figures are read back
/// from the file (``VerityInfo/read(from:salt:)``); one that does not carry the expected tree
/// is converted again. A reused disk's times are set to now, so garbage collection, which
/// removes unlisted disks older than its grace period, spares a disk a build is about to list.
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

    /// The disk of a layer over its lower layers, by the ChainID of all of them.
    public func path(chainID: Digest, verity: Bool) -> URL {
        directory.appendingPathComponent("\(chainID.encoded).chain\(verity ? ".verity" : "").erofs")
    }

    /// The disks of `layers` (each with its diff_id), bottom first, converting those missing.
    ///
    /// - Parameters:
    ///   - layers: the image's layers, base first; each needs its `diffID`.
    ///   - options: erofs compression and level, verity on or off.
    ///   - limits: bounds for hostile layers.
    /// - Returns: one ``LayerDisk`` per layer, base first; ``LayerDisk/converted`` says which
    ///   this call wrote, ``LayerDisk/path`` whether the disk is the layer's own or one over
    ///   its lower layers.
    /// - Throws: ``DiskError/invalidOptions(format:reason:)`` for a layer without a diff_id,
    ///   what ``DiskExporter/exportLayerDisk(_:over:chainID:to:options:limits:)`` throws
    ///   (``LayerError/invalidHardlink(layer:path:target:reason:)`` for a target no layer has).
    public func ensure(_ layers: [LayerSource], options: ExportOptions, limits: LayerLimits = .default) async throws
        -> [LayerDisk]
    {
        let verity = options.appendsVerity(for: .erofs)
        var diffIDs: [Digest] = []
        for layer in layers {
            guard let diffID = layer.diffID else {
                throw DiskError.invalidOptions(format: .erofs, reason: "layer \(layer.digest) has no diff_id")
            }
            diffIDs.append(diffID)
        }
        let chainIDs = ChainID.of(diffIDs)
        var disks: [LayerDisk] = []
        for (index, layer) in layers.enumerated() {
            let diffID = diffIDs[index]
            let own = path(diffID: diffID, verity: verity)
            let chained = path(chainID: chainIDs[index], verity: verity)
            let reused = try await BlockingExecutor.shared.run {
                Self.existing(own.path, key: diffID, diffID: diffID, verity: verity)
                    ?? Self.existing(chained.path, key: chainIDs[index], diffID: diffID, verity: verity)
            }
            if let reused {
                disks.append(reused)
                continue
            }
            let exporter = DiskExporter()
            var result = try await exporter.exportLayerDisk(
                layer, diffID: diffID, to: own, options: options, limits: limits, orNeedsLowers: true)
            if result == nil {
                result = try await exporter.exportLayerDisk(
                    layer, over: Array(layers[..<index]), chainID: chainIDs[index], to: chained, options: options,
                    limits: limits)
            }
            guard let result else { preconditionFailure("the build over the lower layers always ends with a disk") }
            disks.append(
                LayerDisk(
                    diffID: diffID, path: result.path, allocatedBytes: result.allocatedBytes,
                    apparentBytes: result.apparentBytes, verity: result.verity, converted: true))
        }
        return disks
    }

    /// The disk at `path` when it is a regular file carrying the tree of `key` (or, without
    /// verity, any regular file: the rename made it complete), its times set to now.
    private static func existing(_ path: String, key: Digest, diffID: Digest, verity: Bool) -> LayerDisk? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        var figures: VerityInfo?
        if verity {
            guard let read = VerityInfo.read(from: path, salt: Verity.salt(layerDiffID: key)) else { return nil }
            figures = read
        }
        // Now, for garbage collection's grace period; a disk it removes meanwhile is converted
        // again by the next build (a failed touch changes nothing else).
        _ = utimensat(AT_FDCWD, path, nil, 0)
        return LayerDisk(
            diffID: diffID, path: path, allocatedBytes: UInt64(info.st_blocks) * 512, apparentBytes: UInt64(info.st_size),
            verity: figures, converted: false)
    }
}
