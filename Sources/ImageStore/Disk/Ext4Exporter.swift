import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Builds an ext4 filesystem from a tree with `mkfs.ext4 -d`, then shrinks it to fit.
///
/// The file is made sparse at the size ``Ext4Sizing`` proves sufficient, filled by mke2fs
/// (no journal, 4 KiB blocks, 256-byte inodes, no root reserve, fixed UUID and hash seed),
/// shrunk with `resize2fs -M` and truncated to the new block count. Owners, modes, times,
/// xattrs, hard links and device nodes come from the tree; the root directory's owner and
/// mode and mtime are copied from the tree's root with debugfs (mke2fs would make it 0755
/// root:root, stamped with the build time).
struct Ext4Exporter: Sendable {
    /// What one walk of the tree tells the exporter.
    struct Scan: Sendable {
        var sizing = Ext4Sizing()
        var rootUID: UInt32 = 0
        var rootGID: UInt32 = 0
        var rootPermissions: UInt32 = 0o755
        var rootMtime: Int64 = 0
        var latestMtime: Int64 = 0
    }

    /// Writes the filesystem of `rootfs` to `path` (which must not exist yet).
    ///
    /// - Throws: ``DiskError``, `CancellationError`.
    func export(rootfs: URL, to path: String, identity: DiskIdentity) async throws {
        let scan = try await CancellationFlag.runBlocking { flag in
            try Ext4Exporter.scan(rootfs, isCancelled: { flag.isCancelled })
        }
        let blocks = scan.sizing.totalBlocks
        try await BlockingExecutor.shared.run { try Ext4Exporter.truncate(path, to: blocks * Ext4Sizing.blockSize, create: true) }
        // mke2fs and resize2fs stamp the superblock and new inodes with this instead of "now";
        // never a future time, which e2fsck would report.
        let now = Int64(Date().timeIntervalSince1970)
        let environment = ["E2FSPROGS_FAKE_TIME": String(min(max(0, scan.latestMtime), now))]
        let id = identity.uuid.uuidString.lowercased()
        let seed = identity.hashSeed.uuidString.lowercased()
        try await ExternalTool(name: "mkfs.ext4").run(
            [
                "-q", "-F", "-t", "ext4", "-b", "4096", "-I", "256", "-O", "^has_journal", "-m", "0",
                "-N", String(scan.sizing.inodeCount), "-U", id,
                "-E", "hash_seed=\(seed),root_owner=\(scan.rootUID):\(scan.rootGID),nodiscard",
                "-d", rootfs.path, path, String(blocks),
            ], environment: environment)
        // mke2fs gives the root directory mode 0755 and the fake time; copy the tree's instead.
        let debugfs = ExternalTool(name: "debugfs")
        if scan.rootPermissions != 0o755 {
            let mode = String(0o040000 | scan.rootPermissions, radix: 8)
            try await debugfs.run(["-w", "-R", "set_inode_field / mode 0\(mode)", path], environment: environment)
        }
        try await debugfs.run(
            ["-w", "-R", "set_inode_field / mtime @\(scan.rootMtime)", path], environment: environment)
        try await ExternalTool(name: "resize2fs").run(["-M", path], environment: environment)
        let newBlocks = try await Ext4Exporter.blockCount(of: path)
        try await BlockingExecutor.shared.run { try Ext4Exporter.truncate(path, to: newBlocks * Ext4Sizing.blockSize, create: false) }
    }

    /// Walks the tree once, counting what mke2fs will allocate.
    static func scan(_ rootfs: URL, isCancelled: () -> Bool) throws -> Scan {
        let walker = TreeWalker(root: rootfs)
        var scan = Scan()
        var seenLinks = Set<[UInt64]>()
        var directories: [[UInt8]: (entries: UInt64, nameBytes: UInt64)] = [:]
        try walker.walk(isCancelled: isCancelled) { entry in
            scan.latestMtime = max(scan.latestMtime, entry.mtime)
            if entry.path.isEmpty {
                scan.rootUID = entry.uid
                scan.rootGID = entry.gid
                scan.rootPermissions = entry.mode & 0o7777
                scan.rootMtime = entry.mtime
            } else {
                let parent = Array(entry.path[..<(entry.path.lastIndex(of: UInt8(ascii: "/")) ?? 0)])
                directories[parent, default: (0, 0)].entries += 1
                directories[parent, default: (0, 0)].nameBytes += UInt64(entry.nameLength)
            }
            if entry.kind != .directory && entry.linkCount > 1 {
                guard seenLinks.insert([entry.device, entry.inode]).inserted else { return }
            }
            switch entry.kind {
            case .regular: scan.sizing.addRegularFile(size: entry.size)
            case .directory: if directories[entry.path] == nil { directories[entry.path] = (0, 0) }
            case .symlink: scan.sizing.addSymlink(targetLength: Int(entry.size))
            case .characterDevice, .blockDevice, .fifo, .socket: scan.sizing.addSpecialFile()
            }
            scan.sizing.addExtendedAttributes(bytes: try walker.extendedAttributeBytes(of: entry))
        }
        for directory in directories.values {
            scan.sizing.addDirectory(entries: directory.entries, nameBytes: directory.nameBytes)
        }
        return scan
    }

    /// The block count in the superblock, as `dumpe2fs -h` prints it.
    static func blockCount(of path: String) async throws -> UInt64 {
        let tool = ExternalTool(name: "dumpe2fs")
        let header = try await tool.run(["-h", path])
        for line in header.split(separator: "\n") where line.hasPrefix("Block count:") {
            if let count = UInt64(line.dropFirst("Block count:".count).trimmingCharacters(in: .whitespaces)) {
                return count
            }
        }
        throw DiskError.toolFailed(
            tool: tool.name, command: tool.commandLine(["-h", path]), status: 0,
            stderrTail: "no Block count line in its output")
    }

    /// Sets a file's size, creating it first if asked; growing leaves a hole, not written zeros.
    static func truncate(_ path: String, to size: UInt64, create: Bool) throws(DiskError) {
        let flags = O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0)
        let descriptor = open(path, flags, 0o644)
        guard descriptor >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        defer { close(descriptor) }
        guard ftruncate(descriptor, off_t(size)) == 0 else {
            throw .io(path: path, operation: "ftruncate", errno: errno)
        }
    }
}
