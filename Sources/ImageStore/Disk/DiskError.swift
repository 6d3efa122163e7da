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
    /// A root entry is named `TRAILER!!!`, the name that ends a newc archive: the kernel, GNU
    /// cpio and bsdtar would stop there and drop every later entry.
    case reservedNameForCpio(path: String)
    /// The holes of the image's sparse files add up to more zero bytes than a cpio archive may
    /// materialize (``CPIOWriterOptions/maxMaterializedZeroBytes``); `path` has the most.
    case sparseZerosOverLimitForCpio(path: String, zeroBytes: Int64, limit: Int64)
    /// The options do not apply to the format, e.g. compression for ext4.
    case invalidOptions(format: DiskFormat, reason: String)
    /// The image has a `/lost+found` that is not a directory. ext4 keeps that name for its own
    /// directory, and `e2fsck -fy`/`-p` deletes any other entry there, so the build is refused
    /// rather than producing a disk whose first repair loses the image's file.
    case lostAndFoundNotDirectory(kind: String)
    /// A regular file is larger than ext4 with 4 KiB blocks allows (16 TiB − 4 KiB), or negative.
    case fileTooLargeForExt4(size: Int64)
    /// The image needs more than the ext4 writer's 1 TiB (8,192 groups) or 2³² inodes.
    case imageTooLargeForExt4
    /// A chunk of file data handed to the sink overlaps an earlier one or lies past the file's size.
    case invalidFileData(offset: Int64, length: Int64, size: Int64)
    /// A name is longer than ext4's 255 bytes.
    case nameTooLongForExt4(path: String)
    /// A file has more hardlinks than ext4's 65,000.
    case tooManyLinksForExt4(path: String, links: UInt32)
    /// A symlink target is empty, holds a NUL byte or is 4,096 bytes or longer.
    case invalidSymlinkForExt4(path: String, length: Int)
    /// A file's xattrs fill more than its inode (92 bytes) and one 4 KiB xattr block.
    case xattrsTooLargeForExt4(path: String, bytes: Int)
    /// An xattr ext4 cannot store (a namespace other than user., trusted., security. and the
    /// POSIX ACLs, or a malformed ACL).
    case xattrUnsupportedForExt4(path: String, name: String, reason: String)
    /// The model given to a writer contradicts its sink (a writer bug, never bad input).
    case inconsistentModel(reason: String)
    /// A name is longer than erofs's 255 bytes.
    case nameTooLongForErofs(path: String)
    /// A symlink target is empty, holds a NUL byte or is 4,096 bytes or longer.
    case invalidSymlinkForErofs(path: String, length: Int)
    /// A device number erofs cannot encode (major ≥ 4096 or minor ≥ 2^20).
    case deviceNumberTooLargeForErofs(path: String, major: UInt32, minor: UInt32)
    /// A file's inline xattrs need more than erofs's 262,144 bytes.
    case xattrsTooLargeForErofs(path: String, bytes: Int)
    /// An xattr erofs (Linux 6.1) cannot store: a namespace other than user., trusted.,
    /// security. and the POSIX ACLs, an empty or long name, or a value over 64 KiB.
    case xattrUnsupportedForErofs(path: String, name: String, reason: String)
    /// The image needs more than erofs's 2^32 blocks (16 TiB).
    case imageTooLargeForErofs

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
        case .notADirectory, .fileTooLargeForCpio, .nameTooLongForCpio, .reservedNameForCpio, .sparseZerosOverLimitForCpio, .invalidOptions, .lostAndFoundNotDirectory,
            .fileTooLargeForExt4, .imageTooLargeForExt4, .invalidFileData, .nameTooLongForExt4, .tooManyLinksForExt4,
            .invalidSymlinkForExt4, .xattrsTooLargeForExt4, .xattrUnsupportedForExt4, .inconsistentModel,
            .nameTooLongForErofs, .invalidSymlinkForErofs, .deviceNumberTooLargeForErofs, .xattrsTooLargeForErofs,
            .xattrUnsupportedForErofs, .imageTooLargeForErofs:
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
        case .reservedNameForCpio(let path):
            return "export: the image has a root entry \(path), the name that ends a cpio newc archive "
                + "(the kernel would drop every later entry); rename it or use ext4 or erofs"
        case .sparseZerosOverLimitForCpio(let path, let zeroBytes, let limit):
            return "export: the holes of sparse files need \(zeroBytes) zero bytes in a cpio archive (most in \(path)), "
                + "over the limit of \(limit); cpio cannot keep holes: use ext4 or erofs"
        case .invalidOptions(let format, let reason):
            return "export: invalid options for \(format.rawValue): \(reason)"
        case .lostAndFoundNotDirectory(let kind):
            return "export: the image's /lost+found is a \(kind), not a directory; ext4 keeps that name for its "
                + "lost+found directory and e2fsck -p would delete the entry, so the ext4 build is refused; "
                + "remove /lost+found from the image or use erofs or cpio"
        case .fileTooLargeForExt4(let size):
            return "export: a file of \(size) bytes does not fit ext4 (at most 16 TiB - 4 KiB); use erofs"
        case .imageTooLargeForExt4:
            return "export: the image needs more than 1 TiB or 2^32 inodes, the ext4 writer's limits"
        case .invalidFileData(let offset, let length, let size):
            return "export: file data at \(offset) (\(length) bytes) overlaps earlier data or passes the size \(size)"
        case .nameTooLongForExt4(let path):
            return "export: \(path) has a name longer than ext4's 255 bytes"
        case .tooManyLinksForExt4(let path, let links):
            return "export: \(path) has \(links) hardlinks, over ext4's 65000"
        case .invalidSymlinkForExt4(let path, let length):
            return "export: symlink \(path) has a target of \(length) bytes that ext4 cannot store (empty, NUL byte, or 4096+)"
        case .xattrsTooLargeForExt4(let path, let bytes):
            return "export: the xattrs of \(path) need \(bytes) bytes, more than its inode and one 4 KiB xattr block hold"
        case .xattrUnsupportedForExt4(let path, let name, let reason):
            return "export: xattr \(name) of \(path) cannot be stored in ext4 (\(reason))"
        case .inconsistentModel(let reason):
            return "export: internal error, the model contradicts the writer: \(reason)"
        case .nameTooLongForErofs(let path):
            return "export: \(path) has a name longer than erofs's 255 bytes"
        case .invalidSymlinkForErofs(let path, let length):
            return "export: symlink \(path) has a target of \(length) bytes that erofs cannot store (empty, NUL byte, or 4096+)"
        case .deviceNumberTooLargeForErofs(let path, let major, let minor):
            return "export: device \(path) is \(major):\(minor), beyond erofs's 12-bit major and 20-bit minor"
        case .xattrsTooLargeForErofs(let path, let bytes):
            return "export: the xattrs of \(path) need \(bytes) bytes, more than an erofs inode holds (262,144)"
        case .xattrUnsupportedForErofs(let path, let name, let reason):
            return "export: xattr \(name) of \(path) cannot be stored in erofs (\(reason))"
        case .imageTooLargeForErofs:
            return "export: the image needs more than 2^32 blocks (16 TiB), the erofs limit"
        }
    }
}
