import Foundation

@testable import ImageStore

/// Specific trees for the ext4 writer, each exercising one part of the format.
enum EXT4TreeCase: String, CaseIterable, CustomStringConvertible {
    case empty
    case everyKind
    case sparseFiles
    case deepExtentTree
    case hugeSparseFile
    case bigXattrs
    case oddTimes
    case oddNames
    case hardlinks
    case deletedAndReplaced
    case existingLostAndFound
    case manyEntries
    case acrossGroups
    case manyInodeGroups

    var description: String { rawValue }

    /// A recognizable marker: the deleted-data case checks it is nowhere in the image.
    static let deadMarker = Array("DEAD-DATA-MARKER-4b1d".utf8)

    /// 1 MiB + 256 bytes of a pattern whose 4 KiB blocks all differ, computed once.
    private static let base: [UInt8] = (0..<((1 << 20) + 256)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 12)) }

    /// `count` bytes that differ per seed and per block (each block starts with its index), so
    /// misplaced or swapped blocks are seen on read-back.
    static func pattern(_ count: Int, seed: UInt8) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            let start = Int(seed)
            bytes.append(contentsOf: base[start..<(start + min(1 << 20, count - bytes.count))])
        }
        for block in stride(from: 0, to: count - 3, by: 4096) {
            let index = UInt32(truncatingIfNeeded: block / 4096)
            bytes[block] = UInt8(truncatingIfNeeded: index)
            bytes[block + 1] = UInt8(truncatingIfNeeded: index >> 8)
            bytes[block + 2] = UInt8(truncatingIfNeeded: index >> 16)
            bytes[block + 3] = seed
        }
        return bytes
    }

    func build(_ image: EXT4TestImage) throws {
        switch self {
        case .empty:
            break
        case .everyKind:
            let etc = image.directory("etc", permissions: 0o755, uid: 0, gid: 0, time: Timestamp(seconds: 1_700_000_000))
            try image.file("hostname", in: etc, bytes: Array("box\n".utf8), time: Timestamp(seconds: 1_700_000_001, nanoseconds: 5))
            try image.file("empty", in: etc, bytes: [])
            try image.file("block", in: etc, bytes: EXT4TreeCase.pattern(4096, seed: 1))
            try image.file("multi", in: etc, bytes: EXT4TreeCase.pattern(3 << 20 | 17, seed: 2), permissions: 0o4755, uid: 1000, gid: 1000)
            let dev = image.directory("dev")
            image.special(Array("null".utf8), kind: .characterDevice, in: dev, permissions: 0o666, major: 1, minor: 3)
            image.special(Array("sda".utf8), kind: .blockDevice, in: dev, permissions: 0o660, gid: 6, major: 8, minor: 0)
            image.special(Array("big".utf8), kind: .characterDevice, in: dev, major: 300, minor: 70000)
            image.special(Array("fifo".utf8), kind: .fifo, in: dev, permissions: 0o600)
            image.special(Array("sock".utf8), kind: .socket, in: dev, permissions: 0o777)
            image.special(Array("short".utf8), kind: .symlink, permissions: 0o777, target: Array("etc/hostname".utf8))
            image.special(Array("long".utf8), kind: .symlink, permissions: 0o777, target: Array(repeating: UInt8(ascii: "a"), count: 59))
            image.special(Array("longer".utf8), kind: .symlink, permissions: 0o777, target: Array(repeating: UInt8(ascii: "b"), count: 60))
            image.special(Array("longest".utf8), kind: .symlink, permissions: 0o777, target: Array(repeating: UInt8(ascii: "c"), count: 4095))
            image.directory("tmp", permissions: 0o1777, uid: 5, gid: 7)
        case .sparseFiles:
            try image.file(Array("hole-only".utf8), chunks: [], size: 10 << 20)
            try image.file(
                Array("holes".utf8), chunks: [(4096, EXT4TreeCase.pattern(100, seed: 3)), (1 << 20, EXT4TreeCase.pattern(8192, seed: 4))],
                size: 5 << 20)
            try image.file(
                Array("unaligned".utf8),
                chunks: [(0, EXT4TreeCase.pattern(512, seed: 5)), (512, EXT4TreeCase.pattern(700, seed: 6)), (9000, EXT4TreeCase.pattern(3000, seed: 7))],
                size: 12_001)
            try image.file(Array("tail-hole".utf8), chunks: [(0, EXT4TreeCase.pattern(5000, seed: 8))], size: 1 << 30)
        case .deepExtentTree:
            // Every other block: one extent per data block, 3,000 extents → 9 leaves under an index block.
            let chunks = (0..<3000).map { (offset: Int64($0) * 8192, bytes: EXT4TreeCase.pattern(4096, seed: UInt8($0 % 251))) }
            try image.file(Array("fragmented".utf8), chunks: chunks, size: 3000 * 8192)
            let few = (0..<5).map { (offset: Int64($0) * 8192, bytes: EXT4TreeCase.pattern(10, seed: 9)) }
            try image.file(Array("five-extents".utf8), chunks: few, size: 5 * 8192)
        case .hugeSparseFile:
            let gib: Int64 = 1 << 30
            try image.file(
                Array("huge".utf8),
                chunks: [(0, EXT4TreeCase.pattern(4096, seed: 1)), (4 * gib + 12345, EXT4TreeCase.pattern(70000, seed: 2)), (6 * gib - 10, EXT4TreeCase.pattern(10, seed: 3))],
                size: 6 * gib)
        case .bigXattrs:
            let capability: [UInt8] = [0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
            try image.file("ping", bytes: Array("#!/bin/true\n".utf8), permissions: 0o755, xattrs: [Xattr(name: "security.capability", value: capability)])
            try image.file(
                "inode-and-block", bytes: [1],
                xattrs: [
                    Xattr(name: "user.small", value: Array("v".utf8)),
                    Xattr(name: "user.big", value: EXT4TreeCase.pattern(3000, seed: 1)),
                    Xattr(name: "trusted.t", value: []),
                    Xattr(name: "security.selinux", value: Array("system_u:object_r:bin_t:s0\0".utf8)),
                ])
            // Identical xattr blocks are shared (h_refcount 3); e2fsck checks the count.
            let label = [Xattr(name: "security.selinux", value: EXT4TreeCase.pattern(1000, seed: 3))]
            for twin in ["twin-a", "twin-b", "twin-c"] { try image.file(twin, bytes: [7], xattrs: label) }
            image.directory("dir-xattr", xattrs: [Xattr(name: "user.d", value: EXT4TreeCase.pattern(200, seed: 2))])
            image.special(Array("link-xattr".utf8), kind: .symlink, permissions: 0o777, target: Array("x".utf8), xattrs: [Xattr(name: "trusted.l", value: [9])])
            // ACL: user::rw-, user:1000:r--, group::r--, mask::r--, other::---
            var acl: [UInt8] = [2, 0, 0, 0]
            for (tag, perm, id) in [(1, 6, UInt32.max), (2, 4, 1000), (4, 4, UInt32.max), (0x10, 4, UInt32.max), (0x20, 0, UInt32.max)] as [(UInt16, UInt16, UInt32)] {
                var entry = [UInt8](repeating: 0, count: 8)
                entry.putLE16(tag, at: 0)
                entry.putLE16(perm, at: 2)
                entry.putLE32(id, at: 4)
                acl += entry
            }
            try image.file("acl", bytes: [2], permissions: 0o640, xattrs: [Xattr(name: "system.posix_acl_access", value: acl)])
        case .oddTimes:
            try image.file("1969", bytes: [1], time: Timestamp(seconds: -1, nanoseconds: 1))
            try image.file("1901", bytes: [1], time: Timestamp(seconds: -2_147_483_648, nanoseconds: 999_999_999))
            try image.file("2038", bytes: [1], time: Timestamp(seconds: 2_147_483_648, nanoseconds: 123_456_789))
            try image.file("2200", bytes: [1], time: Timestamp(seconds: 7_258_118_400, nanoseconds: 42))
            image.directory("old-dir", time: Timestamp(seconds: -86400 * 365 * 20, nanoseconds: 500))
            image.special(Array("old-link".utf8), kind: .symlink, permissions: 0o777, time: Timestamp(seconds: -5, nanoseconds: 7), target: [65])
        case .oddNames:
            try image.file(Array(repeating: UInt8(ascii: "n"), count: 255), chunks: [(0, [1])], size: 1)
            try image.file([0xFF, 0xFE, 0x80, 0x20], chunks: [(0, [2])], size: 1)
            try image.file("with\nnewline", bytes: [3])
            try image.file("with space ", bytes: [4])
            var parent = InodeID.root
            for depth in 0..<40 { parent = image.directory(Array("d\(depth)".utf8), in: parent) }
            try image.file(Array(repeating: UInt8(ascii: "z"), count: 255), in: parent, chunks: [(0, [5])], size: 1)
        case .hardlinks:
            let first = try image.file("a", bytes: Array("shared".utf8))
            let sub = image.directory("sub")
            image.hardlink(first, named: Array("b".utf8), in: sub)
            image.hardlink(first, named: Array("c".utf8))
            let node = image.special(Array("nul".utf8), kind: .characterDevice, major: 1, minor: 3)
            image.hardlink(node, named: Array("nul2".utf8), in: sub)
        case .deletedAndReplaced:
            let marker = EXT4TreeCase.deadMarker
            let dead = Array(repeating: marker, count: 2000).flatMap { $0 }
            try image.file("gone", bytes: dead)
            try image.file("replaced", bytes: dead + [1])
            let dir = image.directory("dir")
            try image.file("inner", in: dir, bytes: dead)
            try image.remove(Array("gone".utf8))
            try image.remove(Array("replaced".utf8))
            try image.file("replaced", bytes: EXT4TreeCase.pattern(10000, seed: 1))
            try image.remove(Array("dir".utf8))
            try image.file("after", bytes: EXT4TreeCase.pattern(200_000, seed: 2))
            // Stored but never linked: the writer drops it at finish.
            _ = try image.writer.sink.store(size: Int64(dead.count)) { body in try dead.withUnsafeBytes { try body(0, $0) } }
        case .existingLostAndFound:
            let found = image.directory("lost+found", permissions: 0o700, uid: 3, time: Timestamp(seconds: 99))
            try image.file("orphan", in: found, bytes: [1])
        case .acrossGroups:
            // 200 MiB of data crosses into group 1, whose superblock copy the data must skip.
            let mib = 1 << 20
            let chunks = (0..<200).map { (offset: Int64($0 * mib), bytes: EXT4TreeCase.pattern(mib, seed: UInt8($0))) }
            try image.file(Array("big".utf8), chunks: chunks, size: Int64(200 * mib))
            try image.file("after", bytes: EXT4TreeCase.pattern(10, seed: 1))
        case .manyInodeGroups:
            // More inodes than one group holds: several groups with only metadata in group 0.
            let dir = image.directory("d")
            for index in 0..<40000 { image.special(Array("\(index)".utf8), kind: .fifo, in: dir) }
        case .manyEntries:
            let dir = image.directory("many")
            for index in 0..<5000 {
                image.special(Array("entry-\(index)-\(String(repeating: "x", count: index % 200))".utf8), kind: .fifo, in: dir)
            }
        }
    }
}
