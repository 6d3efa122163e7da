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
    ///   - progress: called from the applying thread after each entry with the layer-file
    ///     bytes read so far over all layers (compressed bytes: the unit of the manifest's layer
    ///     sizes), so a caller can show "applied X of Y"; at the end it equals the files' total size.
    /// - Returns: counts of layers, entries, bytes and whiteouts.
    /// - Throws: `LayerError.missingPrivilege` first; `.unsupportedMediaType`; per entry
    ///   `.unsafePath`, `.symlinkInPath`, `.notADirectory`, `.invalidHardlink`, `.invalidEntry`,
    ///   `.limitExceeded`, `.corruptArchive`, `.fileSystem`; `CancellationError`.
    public func apply(
        layers: [LayerSource], to rootfs: URL, progress: (@Sendable (_ appliedBytes: Int64) -> Void)? = nil
    ) async throws -> LayerStatistics {
        let missing = LayerApplier.missingCapabilities()
        guard missing.isEmpty else { throw LayerError.missingPrivilege(capabilities: missing) }
        try LayerSource.checkMediaTypes(layers)
        let cancellation = CancellationFlag()
        return try await withTaskCancellationHandler {
            var statistics = LayerStatistics()
            var applied: Int64 = 0
            for layer in layers {
                try Task.checkCancellation()
                let base = applied
                let report: (@Sendable (Int64) -> Void)? = progress.map { handler in { @Sendable in handler(base &+ $0) } }
                statistics = try await BlockingExecutor.shared.run { [limits, statistics] in
                    try LayerApplier.apply(layer, rootfs, limits, statistics, cancellation, report)
                }
                applied = base &+ layer.fileSize
                progress?(applied)
            }
            return statistics
        } onCancel: {
            cancellation.cancel()
        }
    }

    private static func apply(
        _ layer: LayerSource, _ rootfs: URL, _ limits: LayerLimits, _ statistics: LayerStatistics,
        _ cancellation: CancellationFlag, _ progress: (@Sendable (Int64) -> Void)?
    ) throws -> LayerStatistics {
        let root: ContainedDirectory
        do {
            root = try ContainedDirectory(path: rootfs.path)
        } catch {
            throw LayerError.rootUnusable(path: rootfs.path, message: "\(error)")
        }
        let reader = try layer.openArchive()
        let unpack = LayerUnpack(
            layer: layer.digest, root: root, limits: limits, statistics: statistics, cancellation: cancellation)
        unpack.onProgress = progress
        try unpack.apply(reader)
        return unpack.statistics
    }
}
