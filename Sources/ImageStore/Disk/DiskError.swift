import Foundation

/// Why a rootfs tree could not be turned into a disk file.
public enum DiskError: ClassifiedError, Equatable {
    /// An external tool (mkfs.ext4, resize2fs, mkfs.erofs, gzip, zstd …) exited unsuccessfully.
    ///
    /// `status` is the exit code, or `128 + signal` when a signal ended it; `stderrTail` is the
    /// last lines it wrote to standard error; `command` is the command line as run.
    case toolFailed(tool: String, command: String, status: Int32, stderrTail: String)
    /// An external tool could not be started (not installed, not executable).
    case toolUnavailable(tool: String, message: String)
    /// A system call on a path failed; `errno` is the C error number.
    case io(path: String, operation: String, errno: Int32)
    /// The rootfs to export is not a directory.
    case notADirectory(path: String)
    /// A regular file is larger than the cpio newc format can describe (4 GiB − 1).
    case fileTooLargeForCpio(path: String, size: UInt64)
    /// A path in the tree is longer than the cpio newc header allows.
    case nameTooLongForCpio(path: String)
    /// The options do not apply to the format, e.g. compression for ext4.
    case invalidOptions(format: DiskFormat, reason: String)

    /// Out of space or quota, a tool killed by a signal, a missing tool or an I/O failure may pass
    /// on a later attempt; a tool refusing its input, an oversized file or bad options never will.
    public var kind: ErrorKind {
        switch self {
        case .toolFailed(_, _, let status, let stderrTail):
            let lowered = stderrTail.lowercased()
            if lowered.contains("no space left") || lowered.contains("disk quota exceeded") || status > 128 {
                return .transient(retryAfter: nil)
            }
            return .permanent
        case .toolUnavailable:
            return .transient(retryAfter: nil)
        case .io(_, _, let errno):
            return DiskError.permanentErrnos.contains(errno) ? .permanent : .transient(retryAfter: nil)
        case .notADirectory, .fileTooLargeForCpio, .nameTooLongForCpio, .invalidOptions:
            return .permanent
        }
    }

    /// Error numbers a retry cannot cure: the tree itself is unusable.
    private static let permanentErrnos: Set<Int32> = [ENAMETOOLONG, ELOOP, EOVERFLOW, EFBIG]

    public var description: String {
        switch self {
        case .toolFailed(let tool, let command, let status, let stderrTail):
            let detail = stderrTail.isEmpty ? "no error output" : stderrTail.replacingOccurrences(of: "\n", with: " | ")
            return "export: \(tool) exited with status \(status) (\(detail)); command: \(command)"
        case .toolUnavailable(let tool, let message):
            return "export: cannot run \(tool): \(message); install it (e2fsprogs, erofs-utils, gzip, zstd)"
        case .io(let path, let operation, let errno):
            return "export: \(operation) \(path) failed: \(String(cString: strerror(errno))); "
                + "check free space and permissions"
        case .notADirectory(let path):
            return "export: rootfs \(path) is not a directory; pass the unpacked tree"
        case .fileTooLargeForCpio(let path, let size):
            return "export: \(path) is \(size) bytes, over the 4 GiB limit of cpio newc; use ext4 or erofs"
        case .nameTooLongForCpio(let path):
            return "export: path \(path) is too long for a cpio newc header; use ext4 or erofs"
        case .invalidOptions(let format, let reason):
            return "export: invalid options for \(format.rawValue): \(reason)"
        }
    }
}
