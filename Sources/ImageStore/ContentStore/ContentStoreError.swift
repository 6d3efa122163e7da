import Foundation

/// Why the content store or an import failed.
public enum ContentStoreError: ClassifiedError, Equatable {
    /// A file operation failed; `code` is errno.
    case fileSystem(path: String, operation: String, code: Int32)
    /// A blob's bytes hash to something else than its name (import source or store corruption).
    case digestMismatch(path: String, expected: Digest, actual: Digest)
    /// A blob a manifest or index names is missing from the layout being read.
    case blobMissing(path: String, digest: Digest)
    /// The directory is not a usable OCI image layout.
    case invalidLayout(path: String, reason: String)
    /// The layout has no entry with the tag asked for.
    case tagNotFound(path: String, tag: String, available: [String])
    /// `tar -xf` of an oci-archive failed.
    case extractFailed(path: String, status: String, stderrTail: String)

    public var kind: ErrorKind {
        switch self {
        // Disk full or an I/O error may clear; the rest is about the input and will not.
        case .fileSystem: return .transient(retryAfter: nil)
        case .digestMismatch, .blobMissing, .invalidLayout, .tagNotFound, .extractFailed: return .permanent
        }
    }

    public var description: String {
        switch self {
        case .fileSystem(let path, let operation, let code):
            return "\(path): \(operation) failed: \(String(cString: strerror(code)).lowercased()); check the disk and permissions"
        case .digestMismatch(let path, let expected, let actual):
            return "\(path): content hashes to \(actual), expected \(expected); the source is corrupt"
        case .blobMissing(let path, let digest):
            return "\(path): blob \(digest) is missing; the layout is incomplete, copy it again"
        case .invalidLayout(let path, let reason):
            return "\(path): not an oci image layout: \(reason)"
        case .tagNotFound(let path, let tag, let available):
            let names = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "\(path): no image tagged \"\(tag)\"; available: \(names)"
        case .extractFailed(let path, let status, let stderrTail):
            return "\(path): tar -xf failed (\(status)): \(stderrTail); check that it is an oci-archive tarball"
        }
    }
}
