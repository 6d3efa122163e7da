import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why a private directory could not be made safe, or a tree could not be removed.
public enum FileSystemError: ClassifiedError, Equatable {
    /// A system call failed; `errno` is its error number.
    case io(path: String, operation: String, errno: Int32)
    /// A directory that must be ours is not: a symlink, another owner, not a directory.
    case unsafeDirectory(path: String, reason: String)

    public var kind: ErrorKind {
        switch self {
        // Disk full, EIO or a busy mount may clear; a directory owned by someone else will not.
        case .io: return .transient(retryAfter: nil)
        case .unsafeDirectory: return .permanent
        }
    }

    public var description: String {
        switch self {
        case .io(let path, let operation, let code):
            return "\(path): \(operation) failed: \(String(cString: strerror(code)).lowercased()); check the disk and permissions"
        case .unsafeDirectory(let path, let reason):
            return "\(path): \(reason); remove it or choose another directory"
        }
    }
}
