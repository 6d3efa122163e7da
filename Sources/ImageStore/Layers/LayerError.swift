/// Why a layer could not be applied to the filesystem model.
///
/// Every case that comes from the layer's content names the layer digest and the entry path.
public enum LayerError: ClassifiedError, Equatable {
    /// The layer's media type is not a tar, tar+gzip or tar+zstd layer.
    case unsupportedMediaType(layer: Digest, mediaType: String)
    /// The layer blob could not be opened.
    case unreadable(layer: Digest, file: String, message: String)
    /// The archive is truncated or corrupt; `path` is the last entry read, if any.
    case corruptArchive(layer: Digest, path: String?, message: String)
    /// The blob (after decompression) is not a tar archive; `looksLike` says what it seems to be.
    case notATar(layer: Digest, looksLike: String)
    /// libarchive warned about the header of entry `path` (malformed pax records, several pax
    /// headers for one entry, a negative size); `warning` is its text.
    case malformedHeader(layer: Digest, path: String, warning: String)
    /// A digest computed while reading the layer (`what`: "diff_id" or "blob digest") is not
    /// the one the image declares.
    case digestMismatch(layer: Digest, what: String, expected: Digest, actual: Digest)
    /// The config's `rootfs.diff_ids` does not list one diff_id per manifest layer.
    case diffIDCount(layers: Int, diffIDs: Int)
    /// The entry path is empty, contains `..`, or would otherwise leave the root.
    case unsafePath(layer: Digest, path: String, reason: String)
    /// Resolving a directory component through in-root symlinks followed more than 255 of
    /// them (a loop), or met a symlink with an empty target.
    case symlinkLoop(layer: Digest, path: String, component: String)
    /// A directory component of the entry path exists and is not a directory.
    case notADirectory(layer: Digest, path: String, component: String)
    /// A hardlink target is missing, a directory, or outside the root.
    case invalidHardlink(layer: Digest, path: String, target: String, reason: String)
    /// A header value is out of range (uid, gid, size) or the entry type is not supported.
    case invalidEntry(layer: Digest, path: String, reason: String)
    /// A configured limit (bytes, entries, path length) would be exceeded.
    case limitExceeded(layer: Digest, path: String, limit: String)
    /// The layer was read while its blob downloaded, and the download failed or started over
    /// (a server that ignored a Range request): what was read is void. Once the blob is
    /// stored, the image is built again from it (``ImageBuilder/buildWhilePulling(_:format:output:verity:progress:pulled:)``).
    case downloadVoided(layer: Digest, afterBytes: Int64)

    /// Content problems are permanent; a blob that cannot be opened is transient.
    public var kind: ErrorKind {
        switch self {
        case .unreadable, .downloadVoided:
            return .transient(retryAfter: nil)
        default:
            return .permanent
        }
    }

    public var description: String {
        switch self {
        case .unsupportedMediaType(let layer, let mediaType):
            return "layer \(layer): media type \(mediaType) is not a tar layer; only tar, tar+gzip and tar+zstd are supported"
        case .unreadable(let layer, let file, let message):
            return "layer \(layer): cannot read blob \(file): \(message); fetch the image again"
        case .downloadVoided(let layer, let bytes):
            return "layer \(layer): the download stopped or started over after \(bytes) bytes while the layer was being read"
        case .corruptArchive(let layer, let path, let message):
            let after = path.map { " after entry \"\($0)\"" } ?? ""
            return "layer \(layer): archive is truncated or corrupt\(after): \(message); fetch the image again or rebuild it"
        case .notATar(let layer, let looksLike):
            return "layer \(layer): not a tar archive: \(looksLike); the image is broken, rebuild it"
        case .malformedHeader(let layer, let path, let warning):
            return "layer \(layer) entry \"\(path)\": malformed tar header (\(warning)); refused as Go's archive/tar, "
                + "GNU tar and bsdtar refuse it; rebuild the image"
        case .digestMismatch(let layer, let what, let expected, let actual):
            let declared = what == "diff_id" ? "the image config's rootfs.diff_ids says" : "the manifest says"
            return "layer \(layer): \(what) mismatch: the layer read has \(actual), \(declared) \(expected); "
                + "the image is corrupt or was tampered with, rebuild it"
        case .diffIDCount(let layers, let diffIDs):
            return "image config: rootfs.diff_ids lists \(diffIDs) diff_id(s) for \(layers) manifest layer(s); rebuild the image"
        case .unsafePath(let layer, let path, let reason):
            return "layer \(layer) entry \"\(path)\": refused, \(reason); the layer is hostile or broken, rebuild the image"
        case .symlinkLoop(let layer, let path, let component):
            return "layer \(layer) entry \"\(path)\": refused, the symlink \"\(component)\" does not resolve "
                + "(a loop of more than 255 links, or an empty target); rebuild the image"
        case .notADirectory(let layer, let path, let component):
            return "layer \(layer) entry \"\(path)\": refused, \"\(component)\" is not a directory; rebuild the image"
        case .invalidHardlink(let layer, let path, let target, let reason):
            return "layer \(layer) entry \"\(path)\": hardlink to \"\(target)\" refused, \(reason); rebuild the image"
        case .invalidEntry(let layer, let path, let reason):
            return "layer \(layer) entry \"\(path)\": \(reason); rebuild the image"
        case .limitExceeded(let layer, let path, let limit):
            return "layer \(layer) entry \"\(path)\": \(limit); raise the limit only if the image is trusted"
        }
    }
}
