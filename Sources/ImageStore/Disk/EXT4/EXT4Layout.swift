/// Where every metadata block of the image goes, computed exactly from the numbered model
/// once all file data is placed (no trial writes, no resize).
///
/// Metadata follows the data (`flex_bg` allows bitmaps and inode tables anywhere):
///
/// ```
/// group 0: [sb][descriptor reserve][file data …][block bitmaps][inode bitmaps][inode tables]
///          [directory blocks, symlink blocks, xattr blocks, extent tree blocks …] → end
/// groups with a superblock copy start with [sb copy][descriptor reserve]
/// ```
///
/// The group count depends on where the metadata ends, and the metadata (bitmaps, tables)
/// on the group count: the plan is recomputed with the larger count until it stops growing
/// (a few rounds at most, since metadata grows by about 3 blocks per group).
struct EXT4Layout {
    var groups: UInt64 = 0
    var inodesPerGroup: UInt32 = 0
    var blockBitmaps: [UInt64] = []
    var inodeBitmaps: [UInt64] = []
    var inodeTables: [UInt64] = []
    /// Per directory (same index as ``EXT4Tree/directories``): its blocks, as extents.
    var directoryExtents: [[EXT4Extent]] = []
    var directoryTreeBlocks: [[UInt64]] = []
    var fileTreeBlocks: [UInt32: [UInt64]] = [:]
    var symlinkBlocks: [UInt32: UInt64] = [:]
    /// The xattr block of each inode that has one; identical blocks are shared.
    var xattrBlocks: [UInt32: UInt64] = [:]
    /// How many inodes share each xattr block (`h_refcount`).
    var xattrReferences: [UInt64: UInt32] = [:]
    /// The kernel shares an xattr block among at most this many inodes (`EXT4_XATTR_REFCOUNT_MAX`).
    static let maxXattrReferences: UInt32 = 1024
    var blocksCount: UInt64 = 0

    var inodeTableBlocks: UInt64 { UInt64(inodesPerGroup) / UInt64(EXT4Geometry.inodesPerBlock) }

    /// - Parameters:
    ///   - directoryBlocks: block count of each directory of `tree`.
    ///   - fileExtentCounts: extent counts of the regular files with more than 4 extents.
    ///   - slowSymlinks: symlinks whose target needs a block, in inode order.
    static func make(
        tree: EXT4Tree, directoryBlocks: [Int], fileExtentCounts: [(inode: UInt32, extents: Int)],
        slowSymlinks: [UInt32], allocator: EXT4BlockAllocator
    ) throws(EXT4Failure) -> EXT4Layout {
        let inodes = UInt64(tree.lastInode)
        let perGroupMax = UInt64(EXT4Geometry.blocksPerGroup)  // inodes per group ≤ 8 × block size
        var groups = max(1, groupsFor(blocks: allocator.next), (inodes + perGroupMax - 1) / perGroupMax)
        for _ in 0..<64 {
            guard groups <= EXT4Geometry.maxGroups else { throw .imageTooLarge }
            let layout = try plan(
                groups: groups, tree: tree, directoryBlocks: directoryBlocks, fileExtentCounts: fileExtentCounts,
                slowSymlinks: slowSymlinks, allocator: allocator)
            let needed = groupsFor(blocks: layout.blocksCount)
            if needed <= groups { return layout }
            groups = needed
        }
        throw .imageTooLarge
    }

    static func groupsFor(blocks: UInt64) -> UInt64 {
        (blocks + EXT4Geometry.blocksPerGroup - 1) / EXT4Geometry.blocksPerGroup
    }

    /// Extent tree blocks for a file of `extents` extents: none up to 4 (they fit the inode),
    /// else leaves of 340 and index levels until 4 entries remain for the inode.
    static func treeBlocks(extents: Int) -> Int {
        var level = extents
        var total = 0
        while level > EXT4ExtentHeader.inodeCapacity {
            level = (level + EXT4ExtentHeader.blockCapacity - 1) / EXT4ExtentHeader.blockCapacity
            total += level
        }
        return total
    }

    private static func plan(
        groups: UInt64, tree: EXT4Tree, directoryBlocks: [Int], fileExtentCounts: [(inode: UInt32, extents: Int)],
        slowSymlinks: [UInt32], allocator start: EXT4BlockAllocator
    ) throws(EXT4Failure) -> EXT4Layout {
        var allocator = start
        var layout = EXT4Layout()
        layout.groups = groups
        let perGroup = (UInt64(tree.lastInode) + groups - 1) / groups
        let rounded = (perGroup + UInt64(EXT4Geometry.inodesPerBlock) - 1) / UInt64(EXT4Geometry.inodesPerBlock) * UInt64(EXT4Geometry.inodesPerBlock)
        layout.inodesPerGroup = UInt32(max(rounded, UInt64(EXT4Geometry.inodesPerBlock)))
        layout.blockBitmaps = try (0..<groups).map { _ throws(EXT4Failure) in try allocator.allocateContiguous(1) }
        layout.inodeBitmaps = try (0..<groups).map { _ throws(EXT4Failure) in try allocator.allocateContiguous(1) }
        let tableBlocks = layout.inodeTableBlocks
        layout.inodeTables = try (0..<groups).map { _ throws(EXT4Failure) in try allocator.allocateContiguous(tableBlocks) }
        for count in directoryBlocks {
            var extents: [EXT4Extent] = []
            var logical: UInt64 = 0
            for run in try allocator.allocateRuns(UInt64(count)) {
                EXT4DataSink.append(logical: logical, physical: run.start, count: run.count, to: &extents)
                logical += run.count
            }
            layout.directoryExtents.append(extents)
            layout.directoryTreeBlocks.append(try blocks(treeBlocks(extents: extents.count), from: &allocator))
        }
        for inode in slowSymlinks { layout.symlinkBlocks[inode] = try allocator.allocateContiguous(1) }
        var shared: [[UInt8]: UInt64] = [:]
        for inode in tree.xattrs.keys.sorted() {
            guard let bytes = tree.xattrs[inode]?.block else { continue }
            if let block = shared[bytes], let count = layout.xattrReferences[block], count < maxXattrReferences {
                layout.xattrBlocks[inode] = block
                layout.xattrReferences[block] = count + 1
            } else {
                let block = try allocator.allocateContiguous(1)
                shared[bytes] = block
                layout.xattrBlocks[inode] = block
                layout.xattrReferences[block] = 1
            }
        }
        for file in fileExtentCounts {
            layout.fileTreeBlocks[file.inode] = try blocks(treeBlocks(extents: file.extents), from: &allocator)
        }
        var end = allocator.next
        let lastGroup = groups - 1
        // Enough blocks for `groups` groups even when the metadata ends in an earlier group.
        let lastGroupMinimum = EXT4Geometry.hasSuperblockCopy(lastGroup)
            ? lastGroup * EXT4Geometry.blocksPerGroup + 1 + EXT4Geometry.descriptorBlocks(groups: groups)
            : lastGroup * EXT4Geometry.blocksPerGroup + 1
        end = max(end, lastGroupMinimum)
        layout.blocksCount = end
        return layout
    }

    private static func blocks(_ count: Int, from allocator: inout EXT4BlockAllocator) throws(EXT4Failure) -> [UInt64] {
        var result: [UInt64] = []
        for run in try allocator.allocateRuns(UInt64(count)) {
            for block in run.start..<(run.start + run.count) { result.append(block) }
        }
        return result
    }
}
