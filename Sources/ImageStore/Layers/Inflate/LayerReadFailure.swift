/// Why a layer blob could not be read as a tar stream: the one failure of ``ArchiveReader``
/// and the inflaters under it, turned into a ``LayerError`` by ``layerError(layer:path:)``.
struct LayerReadFailure: Error, Sendable, Equatable {
    /// What went wrong, as precisely as the caller needs to choose a ``LayerError`` case.
    enum Reason: Sendable, Equatable {
        /// The blob file could not be opened or read (errno).
        case unreadable(errno: Int32)
        /// The compressed stream or the tar is truncated or corrupt.
        case corrupt
        /// After decompression the stream is not a tar archive; `looksLike` says what it seems to be.
        case notATar(looksLike: String)
        /// libarchive warned about the header of the entry at `path` (malformed pax records,
        /// several pax headers for one entry, a negative size): refused, as Go's archive/tar,
        /// GNU tar and bsdtar refuse it.
        case malformedHeader(path: String)
        /// A digest computed while reading differs from the one the image declares.
        case digestMismatch(what: String, expected: Digest, actual: Digest)
        /// The blob was read while it downloaded, and the download failed or started over
        /// after `afterBytes` had been read.
        case downloadVoided(afterBytes: Int64)
    }

    let reason: Reason
    /// The step that failed, for messages ("read header", "inflate gzip", …).
    let operation: String
    /// A sentence for a person: libarchive's, isa-l's or zstd's message made readable.
    let message: String

    init(_ reason: Reason, operation: String, message: String) {
        self.reason = reason
        self.operation = operation
        self.message = message
    }

    static func corrupt(_ operation: String, _ message: String) -> LayerReadFailure {
        LayerReadFailure(.corrupt, operation: operation, message: message)
    }

    /// The uncompressed tar hashed to `actual`, the config says `expected`.
    static func diffIDMismatch(expected: Digest, actual: Digest) -> LayerReadFailure {
        LayerReadFailure(
            .digestMismatch(what: "diff_id", expected: expected, actual: actual), operation: "verify diff_id",
            message: "the uncompressed layer's digest is \(actual), the config's rootfs.diff_ids says \(expected)")
    }

    /// The ``LayerError`` for this failure in layer `layer`; `path` is the last entry read.
    func layerError(layer: Digest, path: String?) -> LayerError {
        switch reason {
        case .unreadable:
            return .unreadable(layer: layer, file: operation, message: message)
        case .corrupt:
            return .corruptArchive(layer: layer, path: path, message: message)
        case .notATar(let looksLike):
            return .notATar(layer: layer, looksLike: looksLike)
        case .malformedHeader(let entry):
            return .malformedHeader(layer: layer, path: entry, warning: message)
        case .digestMismatch(let what, let expected, let actual):
            return .digestMismatch(layer: layer, what: what, expected: expected, actual: actual)
        case .downloadVoided(let bytes):
            return .downloadVoided(layer: layer, afterBytes: bytes)
        }
    }
}
