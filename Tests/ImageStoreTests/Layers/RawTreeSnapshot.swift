import CXattr
import Foundation
import Glibc

/// One file as `lstat`, `readlink` and `llistxattr` see it.
struct FileNode: Equatable, CustomStringConvertible {
    var type: Character  // f d l p c b s
    var mode: UInt32  // permission bits incl. setuid/setgid/sticky
    var uid: UInt32
    var gid: UInt32
    var size: Int64
    var content: [UInt8]?
    var linkTarget: [UInt8]?
    var rdevMajor: UInt32
    var rdevMinor: UInt32
    var mtimeSeconds: Int
    var mtimeNanoseconds: Int
    var inode: UInt64
    var links: UInt64
    var xattrs: [String: [UInt8]]

    var description: String {
        "\(type) \(String(mode, radix: 8)) \(uid):\(gid) size=\(size) link=\(linkTarget.map { String(decoding: $0, as: UTF8.self) } ?? "-")"
    }
}

/// Walks a directory tree without following symlinks; keys are paths relative to the root,
/// UTF-8 where valid and `\xNN` for other bytes.
enum RawTreeSnapshot {
    static func take(_ root: URL) -> [String: FileNode] {
        var result: [String: FileNode] = [:]
        walk(Array(root.path.utf8), relative: [], into: &result)
        return result
    }

    /// The paths holding the same inode, for paths that share one.
    static func inodeGroups(_ tree: [String: FileNode]) -> Set<[String]> {
        var groups: [UInt64: [String]] = [:]
        for (path, node) in tree where node.type != "d" { groups[node.inode, default: []].append(path) }
        return Set(groups.values.filter { $0.count > 1 }.map { $0.sorted() })
    }

    static func display(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        return bytes.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : String(format: "\\x%02x", $0) }.joined()
    }

    private static func walk(_ absolute: [UInt8], relative: [UInt8], into result: inout [String: FileNode]) {
        guard let node = describe(absolute) else { return }
        result[relative.isEmpty ? "." : display(relative)] = node
        guard node.type == "d", let stream = opendir(cString(absolute)) else { return }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            walk(absolute + [0x2F] + name, relative: relative.isEmpty ? name : relative + [0x2F] + name, into: &result)
        }
    }

    private static func describe(_ path: [UInt8]) -> FileNode? {
        var info = stat()
        guard lstat(cString(path), &info) == 0 else { return nil }
        let type: Character
        switch info.st_mode & S_IFMT {
        case S_IFREG: type = "f"
        case S_IFDIR: type = "d"
        case S_IFLNK: type = "l"
        case S_IFIFO: type = "p"
        case S_IFCHR: type = "c"
        case S_IFBLK: type = "b"
        default: type = "s"
        }
        var content: [UInt8]?
        if type == "f", info.st_size <= 1 << 20 {
            content = FileManager.default.contents(atPath: String(decoding: path, as: UTF8.self)).map(Array.init)
            if content == nil, let handle = fopen(cString(path), "rb") {
                var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
                _ = fread(&bytes, 1, bytes.count, handle)
                fclose(handle)
                content = bytes
            }
        }
        var target: [UInt8]?
        if type == "l" {
            var buffer = [CChar](repeating: 0, count: 8192)
            let count = readlink(cString(path), &buffer, buffer.count)
            target = buffer.prefix(max(0, count)).map { UInt8(bitPattern: $0) }
        }
        let rdev = UInt64(info.st_rdev)
        return FileNode(
            type: type, mode: UInt32(info.st_mode) & 0o7777, uid: info.st_uid, gid: info.st_gid,
            size: Int64(info.st_size), content: content, linkTarget: target,
            rdevMajor: UInt32(((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfff)),
            rdevMinor: UInt32((rdev & 0xff) | ((rdev >> 12) & ~0xff)),
            mtimeSeconds: info.st_mtim.tv_sec, mtimeNanoseconds: info.st_mtim.tv_nsec,
            inode: UInt64(info.st_ino), links: UInt64(info.st_nlink), xattrs: xattrs(path))
    }

    private static func xattrs(_ path: [UInt8]) -> [String: [UInt8]] {
        var names = [CChar](repeating: 0, count: 65536)
        let length = llistxattr(cString(path), &names, names.count)
        guard length > 0 else { return [:] }
        var result: [String: [UInt8]] = [:]
        for raw in names.prefix(length).split(separator: 0) {
            let name = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            var value = [UInt8](repeating: 0, count: 65536)
            let size = lgetxattr(cString(path), name, &value, value.count)
            if size >= 0 { result[name] = Array(value.prefix(size)) }
        }
        return result
    }

    private static func cString(_ bytes: [UInt8]) -> [CChar] { bytes.map { CChar(bitPattern: $0) } + [0] }
}
