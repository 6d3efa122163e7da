import Foundation

@testable import ImageStore

#if canImport(Glibc)
    import Glibc
#endif

/// Extracts an archive of ``CPIOWriter`` with other people's tools (bsdtar, GNU cpio) and
/// compares the tree with the model entry by entry: type, mode, owner, mtime seconds, size,
/// content, symlink target, rdev, hardlink groups, no missing or extra entries. What newc
/// cannot carry is not compared: xattrs, nanoseconds, holes (read back as zeros), times
/// outside `0...2^32-1` (clamped), hardlinks between symlinks; nor what an extractor cannot
/// restore: directory times for GNU cpio, sockets for bsdtar.
enum CPIOReadBack {
    enum Extractor: String, CaseIterable, CustomStringConvertible {
        case bsdtar
        case cpio
        var description: String { rawValue }
    }

    /// Extracts `archive` into a new directory `into` with `extractor`.
    static func extract(_ archive: URL, with extractor: Extractor, into directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        switch extractor {
        case .bsdtar:
            try ShellCommand.run("bsdtar", ["-x", "-p", "-f", archive.path, "-C", directory.path])
        case .cpio:
            try ShellCommand.run("cpio", ["-idm", "--quiet", "--no-absolute-filenames"], in: directory, stdin: archive)
        }
    }

    /// Every difference between the extracted tree at `root` and `image`'s model; empty when equal.
    static func differences(extracted root: String, image: EXT4TestImage, extractor: Extractor) throws -> [String] {
        var problems: [String] = []
        var inodeOf: [InodeID: UInt64] = [:]
        var modelOf: [UInt64: InodeID] = [:]
        let model = image.model
        var pending: [(id: InodeID, path: [UInt8])] = [(.root, [])]
        while let (directory, path) = pending.popLast() {
            let absolute = Array(root.utf8) + path
            var names = Set(try EXT4ReadBack.listDirectory(absolute))
            for child in model.children(of: directory) {
                let childPath = path + [UInt8(ascii: "/")] + child.name
                let kind = model[child.inode].kind
                guard names.remove(child.name) != nil else {
                    problems.append("\(EXT4ReadBack.show(childPath)): missing")
                    continue
                }
                // libarchive cannot make sockets: bsdtar leaves an empty regular file instead.
                if extractor == .bsdtar && kind == .socket { continue }
                if kind == .directory { pending.append((child.inode, childPath)) }
                try compare(
                    child.inode, at: Array(root.utf8) + childPath, shown: childPath, image: image, extractor: extractor,
                    into: &problems, inodeOf: &inodeOf, modelOf: &modelOf)
            }
            for extra in names { problems.append("\(EXT4ReadBack.show(path + [UInt8(ascii: "/")] + extra)): unexpected") }
            if problems.count > 10 { return problems }
        }
        return problems
    }

    private static func compare(
        _ id: InodeID, at path: [UInt8], shown: [UInt8], image: EXT4TestImage, extractor: Extractor, into problems: inout [String],
        inodeOf: inout [InodeID: UInt64], modelOf: inout [UInt64: InodeID]
    ) throws {
        let inode = image.model[id]
        let name = EXT4ReadBack.show(shown)
        var info = stat()
        guard EXT4ReadBack.withCString(path, { lstat($0, &info) }) == 0 else {
            problems.append("\(name): lstat failed errno \(errno)")
            return
        }
        if inode.kind != .symlink && inode.kind != .directory {
            if let known = inodeOf[id], known != UInt64(info.st_ino) { problems.append("\(name): hardlink split") }
            if let other = modelOf[UInt64(info.st_ino)], other != id { problems.append("\(name): shares an inode it should not") }
            if inodeOf[id] != nil { return }
            inodeOf[id] = UInt64(info.st_ino)
            modelOf[UInt64(info.st_ino)] = id
            if UInt32(info.st_nlink) != inode.linkCount { problems.append("\(name): nlink \(info.st_nlink) != \(inode.linkCount)") }
        }
        if info.st_mode != inode.mode { problems.append("\(name): mode \(String(info.st_mode, radix: 8)) != \(String(inode.mode, radix: 8))") }
        if info.st_uid != inode.uid || info.st_gid != inode.gid {
            problems.append("\(name): owner \(info.st_uid):\(info.st_gid) != \(inode.uid):\(inode.gid)")
        }
        let seconds = min(max(inode.modificationTime.seconds, 0), Int64(UInt32.max))
        // GNU cpio -m sets a directory's time before its entries are extracted into it.
        let timeKept = inode.kind != .symlink && !(extractor == .cpio && inode.kind == .directory)
        if timeKept && Int64(info.st_mtim.tv_sec) != seconds {
            problems.append("\(name): mtime \(info.st_mtim.tv_sec) != \(seconds)")
        }
        switch inode.kind {
        case .regular:
            if Int64(info.st_size) != inode.size { problems.append("\(name): size \(info.st_size) != \(inode.size)") }
            if let content = inode.content, let stored = image.contents[content], try read(path) != expected(stored) {
                problems.append("\(name): content differs")
            }
        case .symlink:
            var buffer = [UInt8](repeating: 0, count: 8192)
            let length = EXT4ReadBack.withCString(path) { pathPointer in
                buffer.withUnsafeMutableBytes { readlink(pathPointer, $0.baseAddress!, 8192) }
            }
            if length < 0 || Array(buffer.prefix(length)) != inode.symlinkTarget { problems.append("\(name): symlink target differs") }
        case .characterDevice, .blockDevice:
            let major = UInt64(inode.deviceMajor), minor = UInt64(inode.deviceMinor)
            let rdev = ((major & 0xFFFF_F000) << 32) | ((major & 0xFFF) << 8) | ((minor & 0xFFFF_FF00) << 12) | (minor & 0xFF)
            if UInt64(info.st_rdev) != rdev { problems.append("\(name): rdev \(info.st_rdev) != \(rdev)") }
        case .directory, .fifo, .socket:
            break
        }
    }

    /// The bytes a stored file reads back as: its chunks with zeros around them.
    static func expected(_ content: EXT4TestImage.Content) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Int(content.size))
        for chunk in content.chunks {
            bytes.replaceSubrange(Int(chunk.offset)..<Int(chunk.offset) + chunk.bytes.count, with: chunk.bytes)
        }
        return bytes
    }

    static func read(_ path: [UInt8]) throws -> [UInt8] {
        let descriptor = EXT4ReadBack.withCString(path) { open($0, O_RDONLY) }
        guard descriptor >= 0 else { throw SnapshotError.syscall("open", EXT4ReadBack.show(path), errno) }
        defer { close(descriptor) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            result += chunk[0..<count]
        }
        return result
    }
}
