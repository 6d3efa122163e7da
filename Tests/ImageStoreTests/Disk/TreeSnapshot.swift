import CCrypto
import CXattr
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Everything `lstat` and the xattr calls say about a directory tree, for comparing a source
/// tree with what came back out of a disk image (mounted or extracted).
///
/// Independent of the product's DirectoryModelBuilder walk on purpose: a bug there must not hide in both sides
/// of a comparison. Paths are relative (`.` for the root); directory sizes are not recorded (they
/// depend on the filesystem), nor are atime and ctime.
struct TreeSnapshot: Equatable, CustomStringConvertible {
    /// One file of the tree.
    struct Node: Equatable, CustomStringConvertible {
        var kind: Character  // d - l c b p s
        var permissions: UInt32  // mode & 0o7777, setuid/setgid/sticky included
        var uid: UInt32
        var gid: UInt32
        var size: UInt64?  // regular files and symlinks
        var sha256: String?  // regular files
        var linkTarget: String?
        var rdev: UInt64?  // device nodes
        var mtime: Int64?  // regular files and directories, seconds
        var xattrs: [String: String]  // name → hex value
        var hardLinks: [String]  // the other paths sharing this inode, sorted

        var description: String {
            var parts = ["\(kind) \(String(permissions, radix: 8)) \(uid):\(gid)"]
            if let size { parts.append("size=\(size)") }
            if let sha256 { parts.append("sha256=\(sha256.prefix(12))") }
            if let linkTarget { parts.append("-> \(linkTarget)") }
            if let rdev { parts.append("rdev=\(rdev)") }
            if let mtime { parts.append("mtime=\(mtime)") }
            if !xattrs.isEmpty { parts.append("xattrs=\(xattrs.sorted { $0.key < $1.key })") }
            if !hardLinks.isEmpty { parts.append("links=\(hardLinks)") }
            return parts.joined(separator: " ")
        }
    }

    /// What to record.
    struct Options {
        var xattrs = true
        var mtimes = true
        /// Directory mtimes too (extractors such as GNU cpio do not restore them).
        var directoryMtimes = true
        /// Relative paths left out, with everything below them (e.g. `lost+found`).
        var ignoring: Set<String> = []
    }

    /// Nodes by relative path.
    var nodes: [String: Node]

    /// Walks `root` (which is not followed if it is a symlink).
    init(root: URL, options: Options = Options()) throws {
        var nodes: [String: Node] = [:]
        var inodes: [UInt64: [String]] = [:]
        var pending = ["."]
        while let relative = pending.popLast() {
            let absolute = relative == "." ? root.path : root.path + "/" + relative
            var info = stat()
            guard lstat(absolute, &info) == 0 else { throw SnapshotError.syscall("lstat", absolute, errno) }
            var node = Node(
                kind: TreeSnapshot.kind(info.st_mode), permissions: info.st_mode & 0o7777, uid: info.st_uid,
                gid: info.st_gid, size: nil, sha256: nil, linkTarget: nil, rdev: nil, mtime: nil,
                xattrs: options.xattrs ? try TreeSnapshot.xattrs(absolute) : [:], hardLinks: [])
            switch node.kind {
            case "d":
                if options.mtimes && options.directoryMtimes { node.mtime = Int64(info.st_mtim.tv_sec) }
                for name in try FileManager.default.contentsOfDirectory(atPath: absolute) {
                    let child = relative == "." ? name : relative + "/" + name
                    if !options.ignoring.contains(child) { pending.append(child) }
                }
            case "-":
                node.size = UInt64(info.st_size)
                node.sha256 = try TreeSnapshot.sha256(ofFile: absolute)
                if options.mtimes { node.mtime = Int64(info.st_mtim.tv_sec) }
            case "l":
                node.size = UInt64(info.st_size)
                node.linkTarget = try FileManager.default.destinationOfSymbolicLink(atPath: absolute)
            case "c", "b":
                node.rdev = UInt64(info.st_rdev)
            default:
                break
            }
            if node.kind != "d" && info.st_nlink > 1 { inodes[UInt64(info.st_ino), default: []].append(relative) }
            nodes[relative] = node
        }
        for group in inodes.values where group.count > 1 {
            for path in group {
                nodes[path]?.hardLinks = group.filter { $0 != path }.sorted()
            }
        }
        self.nodes = nodes
    }

    /// One line per path that differs, is missing or is extra in `other`; empty when equal.
    func differences(from other: TreeSnapshot) -> [String] {
        var lines: [String] = []
        for path in Set(nodes.keys).union(other.nodes.keys).sorted() {
            switch (nodes[path], other.nodes[path]) {
            case (let mine?, let theirs?) where mine != theirs:
                lines.append("\(path): expected \(mine), got \(theirs)")
            case (_?, nil):
                lines.append("\(path): missing")
            case (nil, let theirs?):
                lines.append("\(path): unexpected \(theirs)")
            default:
                break
            }
        }
        return lines
    }

    var description: String {
        nodes.keys.sorted().map { "\($0): \(nodes[$0].map(\.description) ?? "")" }.joined(separator: "\n")
    }

    // MARK: - Helpers

    static func kind(_ mode: UInt32) -> Character {
        switch mode & S_IFMT {
        case S_IFDIR: return "d"
        case S_IFLNK: return "l"
        case S_IFCHR: return "c"
        case S_IFBLK: return "b"
        case S_IFIFO: return "p"
        case S_IFSOCK: return "s"
        default: return "-"
        }
    }

    static func xattrs(_ path: String) throws -> [String: String] {
        let size = llistxattr(path, nil, 0)
        guard size > 0 else { return [:] }
        var list = [CChar](repeating: 0, count: size)
        let listed = llistxattr(path, &list, size)
        guard listed >= 0 else { throw SnapshotError.syscall("llistxattr", path, errno) }
        var result: [String: String] = [:]
        for name in list.prefix(listed).split(separator: 0) {
            let cName = Array(name) + [0]
            let valueSize = lgetxattr(path, cName, nil, 0)
            guard valueSize >= 0 else { throw SnapshotError.syscall("lgetxattr", path, errno) }
            var value = [UInt8](repeating: 0, count: valueSize)
            _ = lgetxattr(path, cName, &value, valueSize)
            result[String(decoding: name.map { UInt8(bitPattern: $0) }, as: UTF8.self)] = hex(value)
        }
        return result
    }

    static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw SnapshotError.syscall("open", path, errno) }
        defer { try? handle.close() }
        let context = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(context) }
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { _ = EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
        }
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return hex(digest)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}

/// A system call failed while taking a snapshot.
enum SnapshotError: Error {
    case syscall(String, String, Int32)
}
