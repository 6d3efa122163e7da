/// Fixed shape of every filesystem the ext4 writer produces.
///
/// 4 KiB blocks, 32,768 blocks (128 MiB) per group, 256-byte inodes, 32-byte group
/// descriptors (no `64bit`). Groups 0, 1 and the powers of 3, 5 and 7 (`sparse_super`) start
/// with a superblock copy followed by the group descriptor table; the writer reserves
/// ``descriptorReserve`` blocks for the table in each of them before any data is placed, so
/// backups never collide with file data whatever the final group count (up to ``maxGroups``).
enum EXT4Geometry {
    static let blockSize = 4096
    static let blockShift: UInt64 = 12
    static let blocksPerGroup: UInt64 = 32768
    static let inodeSize = 256
    /// `i_extra_isize`: the fields up to `i_projid` (crtime and the `_extra` time fields).
    static let extraInodeSize = 32
    static let inodesPerBlock = blockSize / inodeSize
    static let descriptorSize = 32
    static let descriptorsPerBlock = blockSize / descriptorSize
    /// Blocks reserved after each superblock copy for the descriptor table: enough for
    /// ``maxGroups`` groups (1 TiB).
    static let descriptorReserve: UInt64 = 64
    static let maxGroups: UInt64 = descriptorReserve * UInt64(descriptorsPerBlock)
    static let maxBlocks: UInt64 = maxGroups * blocksPerGroup
    /// The first inode number for ordinary files; 1…10 are reserved, 11 is lost+found.
    static let firstInode: UInt32 = 11
    static let rootInode: UInt32 = 2
    static let lostAndFoundInode: UInt32 = 11
    /// Largest extent length of an initialized extent.
    static let maxExtentLength: UInt64 = 32768
    /// Largest link count (`EXT4_LINK_MAX`); a directory beyond it uses 1 (`dir_nlink`).
    static let maxLinks: UInt32 = 65000
    /// Largest logical block of a file (32-bit logical block numbers).
    static let maxFileBlocks: UInt64 = 1 << 32
    /// Blocks given to lost+found (as mke2fs does), so a later fsck can reconnect files without allocating.
    static let lostAndFoundBlocks = 4

    /// The groups holding a superblock and descriptor copy, ascending, below ``maxGroups``.
    static let backupGroups: [UInt64] = {
        var groups: Set<UInt64> = [0, 1]
        for base: UInt64 in [3, 5, 7] {
            var power = base
            while power < maxGroups {
                groups.insert(power)
                power *= base
            }
        }
        return groups.sorted()
    }()

    static func hasSuperblockCopy(_ group: UInt64) -> Bool {
        backupGroups.contains(group)
    }

    /// Blocks of the descriptor table for `groups` groups.
    static func descriptorBlocks(groups: UInt64) -> UInt64 {
        (groups + UInt64(descriptorsPerBlock) - 1) / UInt64(descriptorsPerBlock)
    }

    /// The first block of `group` after its superblock copy and descriptor reserve.
    static func firstFreeBlock(ofGroup group: UInt64) -> UInt64 {
        group * blocksPerGroup + (hasSuperblockCopy(group) ? 1 + descriptorReserve : 0)
    }

    /// The start of the next group after `group` that holds a superblock copy (or `maxBlocks`).
    static func nextCopyStart(after group: UInt64) -> UInt64 {
        for candidate in backupGroups where candidate > group { return candidate * blocksPerGroup }
        return maxBlocks
    }
}
