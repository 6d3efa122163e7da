/// An upper bound on the size of an ext4 filesystem that `mkfs.ext4 -d` can fill with a tree.
///
/// Every allocation mke2fs makes is counted with a bound that cannot be exceeded, so the
/// filesystem always fits; `resize2fs -M` then shrinks it to what the content really needs.
///
/// | what | blocks (4 KiB) counted |
/// |---|---|
/// | regular file (once per inode, hard links share) | ⌈size / 4096⌉ + extent tree: with more than 4 extents, ⌈extents / 340⌉ + 1 leaf/index blocks, where extents ≤ 2 per 32768 blocks + 2 |
/// | directory | 2 × ⌈dirent bytes / 3820⌉ + 1: dirents are 8 + name rounded to 4, a block loses 12 bytes to its checksum tail and < 264 to a dirent that does not fit; ×2 covers half-full htree leaves |
/// | symbolic link | 1 when the target is 60 bytes or more (shorter ones live in the inode) |
/// | extended attributes | 1 per inode whose attributes pass 64 bytes (the in-inode space of a 256-byte inode is ~92) |
/// | inodes | entries + 11 reserved (root, lost+found …) + 64, each 256 bytes of inode table, rounded to whole blocks per group |
/// | per group | block and inode bitmap |
/// | per superblock backup (groups 0, 1, powers of 3, 5, 7) | superblock + group descriptors (64 bytes per group) + reserved GDT blocks for growth (≤ 1024) |
/// | lost+found | 4 |
///
/// The sum is iterated until the group count is stable, then 10 % + 1024 blocks are added.
struct Ext4Sizing: Sendable, Equatable {
    static let blockSize: UInt64 = 4096
    static let blocksPerGroup: UInt64 = 32768
    static let inodeSize: UInt64 = 256

    /// Data, directory, symlink and xattr blocks counted so far.
    private(set) var contentBlocks: UInt64 = 0
    /// Inodes counted so far (hard links count once).
    private(set) var inodes: UInt64 = 0

    /// Counts a regular file's data blocks; call once per inode.
    mutating func addRegularFile(size: UInt64) {
        inodes += 1
        let blocks = Ext4Sizing.ceilDiv(size, Ext4Sizing.blockSize)
        contentBlocks += blocks + Ext4Sizing.extentTreeBlocks(dataBlocks: blocks)
    }

    /// Counts a directory whose entries' names have the given total length.
    mutating func addDirectory(entries: UInt64, nameBytes: UInt64) {
        inodes += 1
        // "." and ".." take 12 bytes each; every other dirent 8 + name, rounded up to 4 (≤ 3 extra).
        let direntBytes = 24 + entries * 11 + nameBytes
        let blocks = 2 * Ext4Sizing.ceilDiv(direntBytes, 3820) + 1
        contentBlocks += blocks + Ext4Sizing.extentTreeBlocks(dataBlocks: blocks)
    }

    /// Counts a symbolic link with a target of `targetLength` bytes.
    mutating func addSymlink(targetLength: Int) {
        inodes += 1
        if targetLength >= 60 { contentBlocks += 1 }
    }

    /// Counts a device node, FIFO or socket: an inode and nothing else.
    mutating func addSpecialFile() {
        inodes += 1
    }

    /// Counts the extended attributes of one inode.
    mutating func addExtendedAttributes(bytes: Int) {
        if bytes > 64 { contentBlocks += 1 }
    }

    /// The `-N` value: every inode of the tree plus the reserved ones and a little headroom.
    var inodeCount: UInt64 { inodes + 11 + 64 }

    /// Total blocks of a filesystem that surely holds the tree.
    var totalBlocks: UInt64 {
        let fixed = contentBlocks + 4  // lost+found
        var total = fixed + 64
        for _ in 0..<8 {
            let next = fixed + Ext4Sizing.metadataBlocks(totalBlocks: total, inodes: inodeCount)
            if next <= total { break }
            total = next
        }
        return total + total / 10 + 1024
    }

    /// Bitmaps, inode tables, superblocks, descriptors and reserved GDT blocks of a filesystem
    /// of `totalBlocks` blocks with `inodes` inodes.
    static func metadataBlocks(totalBlocks: UInt64, inodes: UInt64) -> UInt64 {
        let groups = max(1, ceilDiv(totalBlocks, blocksPerGroup))
        let inodesPerBlock = blockSize / inodeSize
        let inodeTableBlocksPerGroup = ceilDiv(ceilDiv(inodes, groups), inodesPerBlock) + 1
        let descriptorBlocks = ceilDiv(groups * 64, blockSize)
        let growthGroups = ceilDiv(min(UInt64(UInt32.max), totalBlocks * 1024), blocksPerGroup)
        let reservedGDT = min(1024, ceilDiv(growthGroups * 64, blockSize))
        let backups = backupGroups(below: groups)
        return groups * (2 + inodeTableBlocksPerGroup) + backups * (1 + descriptorBlocks + reservedGDT)
    }

    /// How many of groups 0..<groups hold a superblock backup under sparse_super.
    static func backupGroups(below groups: UInt64) -> UInt64 {
        var count: UInt64 = min(groups, 2)
        for base: UInt64 in [3, 5, 7] {
            var power = base
            while power < groups {
                count += 1
                power *= base
            }
        }
        return count
    }

    /// Blocks of extent tree beyond the four extents an inode holds itself.
    static func extentTreeBlocks(dataBlocks: UInt64) -> UInt64 {
        guard dataBlocks > 0 else { return 0 }
        let extents = 2 * ceilDiv(dataBlocks, blocksPerGroup) + 2
        return extents > 4 ? ceilDiv(extents, 340) + 1 : 0
    }

    static func ceilDiv(_ value: UInt64, _ divisor: UInt64) -> UInt64 {
        (value + divisor - 1) / divisor
    }
}
