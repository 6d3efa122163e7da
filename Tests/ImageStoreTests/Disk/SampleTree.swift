import CXattr
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Builds rootfs trees for the disk tests with every kind of entry a container image holds.
enum SampleTree {
    /// A tree with: regular files (an empty one, a 5 MiB one), nested directories, relative and
    /// absolute symlinks (one longer than 60 bytes), a hard-link pair, a FIFO, a character and a
    /// block device, a setuid file, a sticky directory, a directory and file owned by 1000:1000,
    /// user.* and security.capability xattrs, non-ASCII and space names; fixed mtimes.
    static func makeRich(at root: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        for directory in ["bin", "etc/ssl/certs", "usr/share/zoneinfo/Europe", "home/user", "tmp", "dev", "données été"] {
            try fm.createDirectory(at: root.appendingPathComponent(directory), withIntermediateDirectories: true)
        }
        try write(root, "etc/hostname", Data("sample\n".utf8))
        try write(root, "etc/empty", Data())
        var big = Data(count: 5 << 20)
        big.withUnsafeMutableBytes { raw in
            for index in 0..<raw.count { raw[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 13) }
        }
        try write(root, "usr/share/big.bin", big)
        try write(root, "usr/share/zoneinfo/Europe/Paris", Data("TZif2 paris".utf8))
        try check(link(path(root, "usr/share/zoneinfo/Europe/Paris"), path(root, "usr/share/zoneinfo/Europe/Brussels")), "link")
        try write(root, "bin/tool", Data("#!/bin/sh\necho tool\n".utf8))
        try check(chmod(path(root, "bin/tool"), 0o4755), "chmod")
        try check(symlink("../etc/hostname", path(root, "bin/relative-link")), "symlink")
        try check(symlink("/etc/hostname", path(root, "bin/absolute-link")), "symlink")
        let longTarget = "/usr/share/zoneinfo/Europe/" + String(repeating: "long-name-", count: 8)
        try check(symlink(longTarget, path(root, "bin/long-link")), "symlink")
        try check(mkfifo(path(root, "dev/fifo"), 0o600), "mkfifo")
        try check(mknod(path(root, "dev/null"), S_IFCHR | 0o666, makedev(1, 3)), "mknod")
        try check(mknod(path(root, "dev/loop9"), S_IFBLK | 0o660, makedev(7, 9)), "mknod")
        // mknod applies the umask; set the modes a real /dev has.
        try check(chmod(path(root, "dev/null"), 0o666), "chmod")
        try check(chmod(path(root, "dev/loop9"), 0o660), "chmod")
        try check(chmod(path(root, "tmp"), 0o1777), "chmod")
        try write(root, "home/user/notes with space.txt", Data("ünïcödé\n".utf8))
        try check(lchown(path(root, "home/user"), 1000, 1000), "lchown")
        try check(lchown(path(root, "home/user/notes with space.txt"), 1000, 1000), "lchown")
        try write(root, "données été/résumé ✓.txt", Data("accents\n".utf8))
        try setXattr(root, "etc/hostname", "user.comment", Array("hello xattr".utf8))
        // VFS_CAP_REVISION_2, CAP_NET_BIND_SERVICE permitted.
        try setXattr(root, "bin/tool", "security.capability", [0, 0, 0, 2, 0, 4, 0, 0] + [UInt8](repeating: 0, count: 12))
        // A root that is not 0755 root:root: mke2fs would otherwise reset it.
        try check(chmod(root.path, 0o751), "chmod")
        try setMtimes(under: root, to: 1_700_000_000)
    }

    /// `count` small files in one directory, named like hashes.
    static func makeWide(at root: URL, count: Int) throws {
        let directory = root.appendingPathComponent("many")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for index in 0..<count {
            try write(directory, String(format: "file-%06d-%08x", index, index &* 2_654_435_761), Data("\(index)\n".utf8))
        }
    }

    /// A tzdata-like tree: nested region directories of small files, where every file also
    /// appears under `posix/` and `right/` as hard links.
    static func makeZoneinfo(at root: URL) throws {
        let base = root.appendingPathComponent("usr/share/zoneinfo")
        for region in ["Africa", "America", "America/Argentina", "Asia", "Europe", "Pacific"] {
            for alias in ["", "posix/", "right/"] {
                try FileManager.default.createDirectory(
                    at: base.appendingPathComponent(alias + region), withIntermediateDirectories: true)
            }
            for city in 0..<60 {
                let name = "\(region)/City\(city)"
                try write(base, name, Data(repeating: UInt8(city), count: 100 + city * 37))
                for alias in ["posix/", "right/"] {
                    try check(link(path(base, name), path(base, alias + name)), "link")
                }
            }
        }
    }

    // MARK: - Helpers

    static func path(_ root: URL, _ relative: String) -> String { root.path + "/" + relative }

    static func write(_ root: URL, _ relative: String, _ data: Data) throws {
        try data.write(to: URL(fileURLWithPath: path(root, relative)))
    }

    static func setXattr(_ root: URL, _ relative: String, _ name: String, _ value: [UInt8]) throws {
        try check(lsetxattr(path(root, relative), name, value, value.count, 0), "lsetxattr \(name)")
    }

    /// Sets the mtime of every regular file and directory (children first, so that the
    /// directories keep theirs).
    static func setMtimes(under root: URL, to seconds: Int) throws {
        var paths = [root.path]
        if let enumerator = FileManager.default.enumerator(atPath: root.path) {
            for case let relative as String in enumerator { paths.append(root.path + "/" + relative) }
        }
        for path in paths.reversed() {
            var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
            try check(utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW), "utimensat")
        }
    }

    static func check(_ result: Int32, _ what: String) throws {
        guard result == 0 else { throw SnapshotError.syscall(what, "", errno) }
    }

    /// glibc's makedev.
    static func makedev(_ major: UInt32, _ minor: UInt32) -> dev_t {
        let major = UInt64(major), minor = UInt64(minor)
        return dev_t(((major & 0xfff) << 8) | ((major & ~0xfff) << 32) | (minor & 0xff) | ((minor & ~0xff) << 12))
    }
}
