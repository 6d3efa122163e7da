import CXattr
import Foundation

@testable import ImageStore

#if canImport(Glibc)
    import Glibc
#endif

/// Checks an image the ext4 writer produced with other people's tools: `e2fsck -fn` must exit 0
/// and print nothing but its pass lines and summary; the Linux kernel must mount it read-only
/// and show exactly the model, entry by entry (type, mode, owner, mtime with nanoseconds, size,
/// content and holes, symlink target, rdev, hardlink groups, xattrs, no extra entries).
enum EXT4ReadBack {
    /// `e2fsck -fn` output lines that are not its standard pass and summary lines; throws on a non-zero exit.
    static func fsck(_ image: URL) throws -> [String] {
        let outcome = try ShellCommand.attempt("e2fsck", ["-fn", image.path])
        guard outcome.status == 0 else {
            throw ShellCommand.Failure(command: "e2fsck -fn \(image.path)", status: outcome.status, output: outcome.output)
        }
        return outcome.output.split(separator: "\n").map(String.init).filter { line in
            !(line.hasPrefix("e2fsck ") || line.hasPrefix("Pass ") || (line.contains(" files (") && line.hasSuffix(" blocks")))
        }
    }

    /// Mounts `image` read-only on a fresh directory under `scratch`, runs `body`, unmounts.
    static func withMount<T>(_ image: URL, scratch: URL, type: String = "ext4", _ body: (String) throws -> T) throws -> T {
        let mountPoint = scratch.appendingPathComponent("mnt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        try ShellCommand.run("mount", ["-t", type, "-o", "loop,ro", image.path, mountPoint.path])
        defer {
            _ = try? ShellCommand.run("umount", [mountPoint.path])
            try? FileManager.default.removeItem(at: mountPoint)
        }
        return try body(mountPoint.path)
    }

    /// What a read-back compares besides names, kinds, modes, owners, mtimes, sizes, contents,
    /// symlink targets and device numbers.
    struct Checks {
        /// ext4 adds /lost+found to the root.
        var lostAndFound = true
        /// Holes read back as holes (SEEK_DATA / SEEK_HOLE); otherwise only the bytes are compared.
        var holes = true
        /// Hardlinks share an inode and link counts match (off for a tool's extraction).
        var hardlinks = true
        var xattrs = true
        /// Size and content of files with holes (off for `fsck.erofs --extract` of erofs-utils
        /// 1.5, which writes the mapped chunks of a file one after another, skipping the holes).
        var sparseFiles = true
        /// setuid and setgid of non-directories (off for a tool that chowns after chmod, which clears them).
        var setIDBits = true

        static let ext4 = Checks()
        static let erofsMount = Checks(lostAndFound: false, holes: false)
        /// `fsck.erofs --extract` of erofs-utils 1.5 restores neither xattrs nor hardlinks, and
        /// chowns after chmod (so setuid and setgid bits of files are lost), and closes up holes.
        static let erofsExtract = Checks(
            lostAndFound: false, holes: false, hardlinks: false, xattrs: false, sparseFiles: false, setIDBits: false)
    }

    /// Every difference between the mounted tree at `root` and `image`'s model; empty when equal.
    static func differences(mounted root: String, image: EXT4TestImage, checks: Checks = .ext4) throws -> [String] {
        var problems: [String] = []
        var inodeOf: [InodeID: UInt64] = [:]
        var modelOf: [UInt64: InodeID] = [:]
        let model = image.model
        var pending: [(id: InodeID, path: [UInt8])] = [(.root, [])]
        while let (directory, path) = pending.popLast() {
            let absolute = Array(root.utf8) + path
            var names = Set(try listDirectory(absolute))
            if checks.lostAndFound && directory == .root && model.lookup(Array("lost+found".utf8), in: .root) == nil {
                if names.remove(Array("lost+found".utf8)) == nil { problems.append("/lost+found missing") }
            }
            try compare(model[directory], id: directory, at: absolute, shown: path, image: image, checks: checks, into: &problems, inodeOf: &inodeOf, modelOf: &modelOf)
            for child in model.children(of: directory) {
                let childPath = path + [UInt8(ascii: "/")] + child.name
                guard names.remove(child.name) != nil else {
                    problems.append("\(show(childPath)): missing")
                    continue
                }
                if model[child.inode].kind == .directory {
                    pending.append((child.inode, childPath))
                } else {
                    try compare(
                        model[child.inode], id: child.inode, at: Array(root.utf8) + childPath, shown: childPath, image: image,
                        checks: checks, into: &problems, inodeOf: &inodeOf, modelOf: &modelOf)
                }
            }
            for extra in names { problems.append("\(show(path + [UInt8(ascii: "/")] + extra)): unexpected") }
            if problems.count > 50 { return problems }
        }
        return problems
    }

    private static func compare(
        _ inode: Inode, id: InodeID, at path: [UInt8], shown: [UInt8], image: EXT4TestImage, checks: Checks, into problems: inout [String],
        inodeOf: inout [InodeID: UInt64], modelOf: inout [UInt64: InodeID]
    ) throws {
        let name = show(shown)
        var info = stat()
        guard withCString(path, { lstat($0, &info) }) == 0 else {
            problems.append("\(name): lstat failed errno \(errno)")
            return
        }
        // Hardlink groups: the same model inode is the same disk inode, and only it.
        if !checks.hardlinks {
            inodeOf = [:]
            modelOf = [:]
        }
        if let known = inodeOf[id], known != UInt64(info.st_ino) { problems.append("\(name): hardlink split") }
        if let other = modelOf[UInt64(info.st_ino)], other != id { problems.append("\(name): shares an inode it should not") }
        if inodeOf[id] != nil { return }
        inodeOf[id] = UInt64(info.st_ino)
        modelOf[UInt64(info.st_ino)] = id
        let ignored: UInt32 = checks.setIDBits || inode.kind == .directory ? 0 : 0o6000
        if UInt32(info.st_mode) & ~ignored != inode.mode & ~ignored { problems.append("\(name): mode \(String(info.st_mode, radix: 8)) != \(String(inode.mode, radix: 8))") }
        if info.st_uid != inode.uid || info.st_gid != inode.gid { problems.append("\(name): owner \(info.st_uid):\(info.st_gid) != \(inode.uid):\(inode.gid)") }
        let mtime = Timestamp(seconds: Int64(info.st_mtim.tv_sec), nanoseconds: Int64(info.st_mtim.tv_nsec))
        if mtime != inode.modificationTime { problems.append("\(name): mtime \(mtime) != \(inode.modificationTime)") }
        if checks.hardlinks && inode.kind != .directory && UInt32(info.st_nlink) != inode.linkCount { problems.append("\(name): nlink \(info.st_nlink) != \(inode.linkCount)") }
        let xattrs = try readXattrs(path)
        let expected = Dictionary(inode.xattrs.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        if checks.xattrs && xattrs != expected { problems.append("\(name): xattrs \(xattrs.keys.sorted()) != \(expected.keys.sorted())") }
        switch inode.kind {
        case .regular:
            if !checks.sparseFiles, let content = inode.content, let stored = image.contents[content], hasHoles(stored) { break }
            if Int64(info.st_size) != inode.size { problems.append("\(name): size \(info.st_size) != \(inode.size)") }
            if let content = inode.content, let stored = image.contents[content] {
                problems.append(contentsOf: try compareContent(path, stored, name: name, holes: checks.holes))
            }
        case .symlink:
            var buffer = [UInt8](repeating: 0, count: 8192)
            let length = withCString(path) { pathPointer in buffer.withUnsafeMutableBytes { readlink(pathPointer, $0.baseAddress!, 8192) } }
            if length < 0 || Array(buffer.prefix(length)) != inode.symlinkTarget { problems.append("\(name): symlink target differs") }
        case .characterDevice, .blockDevice:
            let major = UInt64(inode.deviceMajor), minor = UInt64(inode.deviceMinor)
            let rdev = ((major & 0xFFFF_F000) << 32) | ((major & 0xFFF) << 8) | ((minor & 0xFFFF_FF00) << 12) | (minor & 0xFF)
            if UInt64(info.st_rdev) != rdev { problems.append("\(name): rdev \(info.st_rdev) != \(rdev)") }
        case .directory, .fifo, .socket:
            break
        }
    }

    /// Data regions (SEEK_DATA/4)  // SEEK_HOLE must be exactly the blocks the chunks touch, and read
    /// back as the chunks with zeros around them.
    private static func compareContent(_ path: [UInt8], _ content: EXT4TestImage.Content, name: String, holes: Bool) throws -> [String] {
        let descriptor = withCString(path) { open($0, O_RDONLY) }
        guard descriptor >= 0 else { return ["\(name): open failed"] }
        defer { close(descriptor) }
        guard holes else { return compareBytes(descriptor, content, name: name) }
        var expectedRegions: [(Int64, Int64)] = []
        for chunk in content.chunks where !chunk.bytes.isEmpty {
            let start = chunk.offset / 4096 * 4096
            let end = min((chunk.offset + Int64(chunk.bytes.count) + 4095) / 4096 * 4096, content.size)
            if let last = expectedRegions.last, last.1 >= start {
                expectedRegions[expectedRegions.count - 1].1 = max(last.1, end)
            } else {
                expectedRegions.append((start, end))
            }
        }
        var regions: [(Int64, Int64)] = []
        var position: Int64 = 0
        while position < content.size {
            let data = lseek(descriptor, off_t(position), 3)  // SEEK_DATA
            if data < 0 { break }
            let hole = lseek(descriptor, data, 4)  // SEEK_HOLE
            regions.append((Int64(data), Int64(hole)))
            position = Int64(hole)
        }
        guard regions.map({ [$0.0, $0.1] }) == expectedRegions.map({ [$0.0, $0.1] }) else {
            return ["\(name): data regions \(regions) != \(expectedRegions)"]
        }
        var chunkIndex = 0
        for region in regions {
            var expected = [UInt8](repeating: 0, count: Int(region.1 - region.0))
            while chunkIndex < content.chunks.count && content.chunks[chunkIndex].offset < region.1 {
                let chunk = content.chunks[chunkIndex]
                expected.replaceSubrange(
                    Int(chunk.offset - region.0)..<Int(chunk.offset - region.0) + chunk.bytes.count, with: chunk.bytes)
                chunkIndex += 1
            }
            var actual = [UInt8](repeating: 0, count: expected.count)
            var done = 0
            while done < actual.count {
                let result = actual.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, $0.count - done, off_t(region.0) + off_t(done)) }
                guard result > 0 else { return ["\(name): read failed"] }
                done += result
            }
            if actual != expected { return ["\(name): content differs in \(region)"] }
        }
        return []
    }

    /// Whether some 4 KiB block of the file has no data chunk in it.
    static func hasHoles(_ content: EXT4TestImage.Content) -> Bool {
        var covered: Int64 = 0
        for chunk in content.chunks where !chunk.bytes.isEmpty {
            if chunk.offset / 4096 > (covered + 4095) / 4096 { return true }
            covered = max(covered, chunk.offset + Int64(chunk.bytes.count))
        }
        return (content.size + 4095) / 4096 > (covered + 4095) / 4096
    }

    /// Reads the whole file in 1 MiB pieces and compares it with the chunks and zeros between.
    private static func compareBytes(_ descriptor: Int32, _ content: EXT4TestImage.Content, name: String) -> [String] {
        let piece = 1 << 20
        var chunkIndex = 0
        var position: Int64 = 0
        var actual = [UInt8](repeating: 0, count: piece)
        while position < content.size {
            let length = Int(min(Int64(piece), content.size - position))
            var expected = [UInt8](repeating: 0, count: length)
            var index = chunkIndex
            while index < content.chunks.count && content.chunks[index].offset < position + Int64(length) {
                let chunk = content.chunks[index]
                let from = max(chunk.offset, position), to = min(chunk.offset + Int64(chunk.bytes.count), position + Int64(length))
                if from < to {
                    expected.replaceSubrange(
                        Int(from - position)..<Int(to - position), with: chunk.bytes[Int(from - chunk.offset)..<Int(to - chunk.offset)])
                }
                if chunk.offset + Int64(chunk.bytes.count) <= position + Int64(length) { chunkIndex = index + 1 }
                index += 1
            }
            var done = 0
            while done < length {
                let result = actual.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, length - done, off_t(position) + off_t(done)) }
                guard result > 0 else { return ["\(name): read failed at \(position + Int64(done))"] }
                done += result
            }
            // memcmp: a generic element-by-element comparison is very slow in debug test builds.
            let same = actual.withUnsafeBytes { have in
                expected.withUnsafeBytes { want in memcmp(have.baseAddress!, want.baseAddress!, length) == 0 }
            }
            if !same { return ["\(name): content differs in \(position)..<\(position + Int64(length))"] }
            position += Int64(length)
        }
        var extra: UInt8 = 0
        if pread(descriptor, &extra, 1, off_t(content.size)) != 0 { return ["\(name): longer than \(content.size)"] }
        return []
    }

    static func listDirectory(_ path: [UInt8]) throws -> [[UInt8]] {
        guard let stream = withCString(path, { opendir($0) }) else { throw SnapshotError.syscall("opendir", show(path), errno) }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [46] || name == [46, 46] { continue }
            names.append(name)
        }
        return names
    }

    static func readXattrs(_ path: [UInt8]) throws -> [String: [UInt8]] {
        try withCString(path) { pathPointer in
            let size = llistxattr(pathPointer, nil, 0)
            guard size > 0 else { return [:] }
            var list = [CChar](repeating: 0, count: size)
            let listed = llistxattr(pathPointer, &list, size)
            guard listed >= 0 else { throw SnapshotError.syscall("llistxattr", show(path), errno) }
            var result: [String: [UInt8]] = [:]
            for name in list.prefix(listed).split(separator: 0) {
                let cName = Array(name) + [0]
                let valueSize = lgetxattr(pathPointer, cName, nil, 0)
                guard valueSize >= 0 else { throw SnapshotError.syscall("lgetxattr", show(path), errno) }
                var value = [UInt8](repeating: 0, count: valueSize)
                _ = lgetxattr(pathPointer, cName, &value, valueSize)
                result[String(decoding: name.map { UInt8(bitPattern: $0) }, as: UTF8.self)] = value
            }
            return result
        }
    }

    static func withCString<T>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        let terminated = bytes.map { CChar(bitPattern: $0) } + [0]
        return try terminated.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    static func show(_ path: [UInt8]) -> String {
        path.isEmpty ? "/" : String(decoding: path, as: UTF8.self).debugDescription
    }
}
