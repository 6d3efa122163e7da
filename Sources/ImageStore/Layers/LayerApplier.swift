import Foundation

/// Applies OCI layer tars, in manifest order, to a root filesystem directory.
///
/// Implements the changeset semantics of the OCI image spec (layer.md): regular files,
/// directories, symlinks (targets kept exactly as written), hardlinks (to this or a lower
/// layer), FIFOs and device nodes with exact owner, mode (setuid, setgid, sticky included),
/// xattrs and times; whiteouts and opaque directories; replacement of an entry by one of
/// another type. No entry can create, change or delete anything outside `rootfs`: see
/// ``ContainedDirectory``. Each layer is applied on ``BlockingExecutor/shared``.
///
/// ```swift
/// let stats = try await LayerApplier().apply(layers: sources, to: scratch)
/// ```
public struct LayerApplier: Sendable {
    /// Bounds on expanded bytes, entries and path lengths.
    public var limits: LayerLimits

    public init(limits: LayerLimits = .default) {
        self.limits = limits
    }

    /// Applies `layers` in order to the existing directory `rootfs`.
    ///
    /// Exact owners and device nodes need CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_MKNOD
    /// and CAP_SETFCAP (root has them); without them nothing is written. Between entries the
    /// task's cancellation is checked. On failure `rootfs` is left partly written: it is
    /// scratch, and the caller removes it.
    ///
    /// - Parameters:
    ///   - layers: the manifest's layers, base first.
    ///   - rootfs: an existing, normally empty, directory.
    /// - Returns: counts of layers, entries, bytes and whiteouts.
    /// - Throws: `LayerError.missingPrivilege` first; `.unsupportedMediaType`; per entry
    ///   `.unsafePath`, `.symlinkInPath`, `.notADirectory`, `.invalidHardlink`, `.invalidEntry`,
    ///   `.limitExceeded`, `.corruptArchive`, `.fileSystem`; `CancellationError`.
    public func apply(layers: [LayerSource], to rootfs: URL) async throws -> LayerStatistics {
        let missing = LayerApplier.missingCapabilities()
        guard missing.isEmpty else { throw LayerError.missingPrivilege(capabilities: missing) }
        for layer in layers where MediaType.layerCompression(layer.mediaType) == nil {
            throw LayerError.unsupportedMediaType(layer: layer.digest, mediaType: layer.mediaType)
        }
        let cancellation = CancellationFlag()
        return try await withTaskCancellationHandler {
            var statistics = LayerStatistics()
            for layer in layers {
                try Task.checkCancellation()
                statistics = try await BlockingExecutor.shared.run { [limits, statistics] in
                    try LayerApplier.apply(layer, rootfs, limits, statistics, cancellation)
                }
            }
            return statistics
        } onCancel: {
            cancellation.cancel()
        }
    }

    private static func apply(
        _ layer: LayerSource, _ rootfs: URL, _ limits: LayerLimits, _ statistics: LayerStatistics,
        _ cancellation: CancellationFlag
    ) throws -> LayerStatistics {
        let root: ContainedDirectory
        do {
            root = try ContainedDirectory(path: rootfs.path)
        } catch {
            throw LayerError.rootUnusable(path: rootfs.path, message: "\(error)")
        }
        let reader: ArchiveReader
        do {
            reader = try ArchiveReader(file: layer.file)
        } catch {
            guard FileManager.default.isReadableFile(atPath: layer.file.path) else {
                throw LayerError.unreadable(layer: layer.digest, file: layer.file.path, message: error.message)
            }
            throw LayerError.corruptArchive(layer: layer.digest, path: nil, message: error.message)
        }
        let unpack = LayerUnpack(
            layer: layer.digest, root: root, limits: limits, statistics: statistics, cancellation: cancellation)
        try unpack.apply(reader)
        return unpack.statistics
    }
}
