extension EXT4Assembler {
    /// Inode tables, inode and block bitmaps, group descriptors and superblocks; sizes the file.
    func writeTables(records: [EXT4InodeRecord], tree: EXT4Tree, layout: EXT4Layout, used: EXT4UsedBlocks) throws {
        let groups = Int(layout.groups)
        let perGroup = Int(layout.inodesPerGroup)
        let lastInode = Int(tree.lastInode)
        var directoriesPerGroup = [Int](repeating: 0, count: groups)
        for directory in tree.directories { directoriesPerGroup[(Int(directory.inode) - 1) / perGroup] += 1 }
        var descriptors: [EXT4GroupDescriptor] = []
        var freeBlocks: UInt64 = 0
        for group in 0..<groups {
            let first = group * perGroup + 1
            if first <= lastInode {
                var table = [UInt8](repeating: 0, count: Int(layout.inodeTableBlocks) * EXT4Geometry.blockSize)
                for number in first...min(first + perGroup - 1, lastInode)
                where number >= Int(EXT4Geometry.firstInode) || number == Int(EXT4Geometry.rootInode) {
                    records[number].encode(into: &table, at: (number - first) * EXT4Geometry.inodeSize)
                }
                try file.write(table, at: layout.inodeTables[group])
            }
            let usedInodes = max(0, min(perGroup, lastInode - group * perGroup))
            var inodeBitmap = [UInt8](repeating: 0, count: EXT4Geometry.blockSize)
            for bit in 0..<usedInodes { inodeBitmap[bit / 8] |= UInt8(1) << (bit % 8) }
            for bit in perGroup..<(EXT4Geometry.blockSize * 8) { inodeBitmap[bit / 8] |= UInt8(1) << (bit % 8) }
            try file.write(inodeBitmap, at: layout.inodeBitmaps[group])
            let blockBitmap = used.bitmap(group: UInt64(group))
            try file.write(blockBitmap.bytes, at: layout.blockBitmaps[group])
            let blocksInGroup = Int(min(EXT4Geometry.blocksPerGroup, layout.blocksCount - UInt64(group) * EXT4Geometry.blocksPerGroup))
            let free = blocksInGroup - blockBitmap.used
            freeBlocks += UInt64(free)
            descriptors.append(
                EXT4GroupDescriptor(
                    blockBitmap: UInt32(layout.blockBitmaps[group]), inodeBitmap: UInt32(layout.inodeBitmaps[group]),
                    inodeTable: UInt32(layout.inodeTables[group]), freeBlocksCount: UInt16(free),
                    freeInodesCount: UInt16(perGroup - usedInodes), usedDirsCount: UInt16(directoriesPerGroup[group])))
        }
        let descriptorBlocks = Int(EXT4Geometry.descriptorBlocks(groups: layout.groups))
        var table = [UInt8](repeating: 0, count: descriptorBlocks * EXT4Geometry.blockSize)
        for (index, descriptor) in descriptors.enumerated() {
            descriptor.encode(into: &table, at: index * EXT4GroupDescriptor.size)
        }
        var superblock = EXT4Superblock()
        superblock.inodesCount = UInt32(groups * perGroup)
        superblock.blocksCount = layout.blocksCount
        superblock.freeBlocksCount = freeBlocks
        superblock.freeInodesCount = UInt32(groups * perGroup - lastInode)
        superblock.inodesPerGroup = UInt32(perGroup)
        superblock.mountTime = 0
        superblock.writeTime = options.time
        superblock.lastCheck = options.time
        superblock.mkfsTime = options.time
        superblock.featureCompat = EXT4Superblock.compatExtAttr
        superblock.featureIncompat = EXT4Superblock.incompatFiletype | EXT4Superblock.incompatExtents | EXT4Superblock.incompatFlexBG
        superblock.featureRoCompat = EXT4Superblock.roCompatSparseSuper | EXT4Superblock.roCompatLargeFile
            | EXT4Superblock.roCompatHugeFile | EXT4Superblock.roCompatDirNlink | EXT4Superblock.roCompatExtraIsize
        superblock.uuid = options.uuid
        superblock.hashSeed = options.hashSeed
        superblock.volumeName = options.volumeName
        for group in EXT4Geometry.backupGroups where group < layout.groups {
            superblock.blockGroupNumber = UInt16(group)
            var first = [UInt8](repeating: 0, count: EXT4Geometry.blockSize)
            first.putBytes(superblock.encoded(), at: group == 0 ? 1024 : 0)
            try file.write(first, at: group * EXT4Geometry.blocksPerGroup)
            try file.write(table, at: group * EXT4Geometry.blocksPerGroup + 1)
        }
        try file.finish(blocks: layout.blocksCount)
    }
}
