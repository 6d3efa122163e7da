import Testing

@testable import ImageStore

/// Sizes and field offsets of the on-disk structures, against the tables of the kernel's
/// Documentation/filesystems/ext4/ (super.rst, group_descr.rst, inodes.rst, ifork.rst,
/// directory.rst, attributes.rst). Each field gets a distinct value and is read back at its
/// documented offset.
@Suite("EXT4 on-disk structures")
struct EXT4StructureTests {
    @Test("superblock: 1024 bytes, fields at the offsets of super.rst")
    func superblock() {
        var superblock = EXT4Superblock()
        superblock.inodesCount = 0x1111_1111
        superblock.blocksCount = 0x0000_0002_2222_2222
        superblock.freeBlocksCount = 0x0000_0003_3333_3333
        superblock.freeInodesCount = 0x4444_4444
        superblock.inodesPerGroup = 0x5555
        superblock.writeTime = 0x6666_6666
        superblock.mkfsTime = 0x7777_7777
        superblock.blockGroupNumber = 9
        superblock.featureCompat = 0xA
        superblock.featureIncompat = 0xB
        superblock.featureRoCompat = 0xC
        superblock.uuid = Array(1...16)
        superblock.volumeName = Array("vol".utf8)
        superblock.hashSeed = Array(17...32)
        let bytes = superblock.encoded()
        #expect(bytes.count == 1024)
        #expect(bytes.le32(at: 0x00) == 0x1111_1111)  // s_inodes_count
        #expect(bytes.le32(at: 0x04) == 0x2222_2222)  // s_blocks_count_lo
        #expect(bytes.le32(at: 0x150) == 2)  // s_blocks_count_hi
        #expect(bytes.le32(at: 0x0C) == 0x3333_3333)  // s_free_blocks_count_lo
        #expect(bytes.le32(at: 0x158) == 3)  // s_free_blocks_count_hi
        #expect(bytes.le32(at: 0x10) == 0x4444_4444)  // s_free_inodes_count
        #expect(bytes.le32(at: 0x14) == 0)  // s_first_data_block (4 KiB blocks)
        #expect(bytes.le32(at: 0x18) == 2)  // s_log_block_size: 1024 << 2
        #expect(bytes.le32(at: 0x20) == 32768)  // s_blocks_per_group
        #expect(bytes.le32(at: 0x28) == 0x5555)  // s_inodes_per_group
        #expect(bytes.le32(at: 0x30) == 0x6666_6666)  // s_wtime
        #expect(bytes.le16(at: 0x38) == 0xEF53)  // s_magic
        #expect(bytes.le16(at: 0x3A) == 1)  // s_state: clean
        #expect(bytes.le32(at: 0x4C) == 1)  // s_rev_level: dynamic
        #expect(bytes.le32(at: 0x54) == 11)  // s_first_ino
        #expect(bytes.le16(at: 0x58) == 256)  // s_inode_size
        #expect(bytes.le16(at: 0x5A) == 9)  // s_block_group_nr
        #expect(bytes.le32(at: 0x5C) == 0xA)  // s_feature_compat
        #expect(bytes.le32(at: 0x60) == 0xB)  // s_feature_incompat
        #expect(bytes.le32(at: 0x64) == 0xC)  // s_feature_ro_compat
        #expect(Array(bytes[0x68..<0x78]) == Array(1...16))  // s_uuid
        #expect(Array(bytes[0x78..<0x7B]) == Array("vol".utf8))  // s_volume_name
        #expect(Array(bytes[0xEC..<0xFC]) == Array(17...32))  // s_hash_seed
        #expect(bytes[0xFC] == 1)  // s_def_hash_version
        #expect(bytes.le32(at: 0x108) == 0x7777_7777)  // s_mkfs_time
        #expect(bytes.le16(at: 0x15C) == 32)  // s_min_extra_isize
        #expect(bytes.le16(at: 0x15E) == 32)  // s_want_extra_isize
        #expect(bytes[0x174] == 4)  // s_log_groups_per_flex
    }

    @Test("group descriptor: 32 bytes, fields at the offsets of group_descr.rst")
    func groupDescriptor() {
        var bytes = [UInt8](repeating: 0xEE, count: 40)
        bytes.replaceSubrange(4..<36, with: repeatElement(0, count: 32))
        EXT4GroupDescriptor(
            blockBitmap: 0x1111_1111, inodeBitmap: 0x2222_2222, inodeTable: 0x3333_3333, freeBlocksCount: 0x4444,
            freeInodesCount: 0x5555, usedDirsCount: 0x6666
        ).encode(into: &bytes, at: 4)
        #expect(EXT4GroupDescriptor.size == 32)
        #expect(bytes.le32(at: 4 + 0x00) == 0x1111_1111)
        #expect(bytes.le32(at: 4 + 0x04) == 0x2222_2222)
        #expect(bytes.le32(at: 4 + 0x08) == 0x3333_3333)
        #expect(bytes.le16(at: 4 + 0x0C) == 0x4444)
        #expect(bytes.le16(at: 4 + 0x0E) == 0x5555)
        #expect(bytes.le16(at: 4 + 0x10) == 0x6666)
        #expect(bytes[0..<4].allSatisfy { $0 == 0xEE } && bytes[36..<40].allSatisfy { $0 == 0xEE })
    }

    @Test("inode: 256 bytes, fields at the offsets of inodes.rst")
    func inode() {
        var record = EXT4InodeRecord()
        record.mode = 0o100644
        record.uid = 0x0001_2345
        record.gid = 0x0006_7890
        record.size = 0x0000_0001_2345_6789
        record.time = EXT4Time(Timestamp(seconds: 1_700_000_000, nanoseconds: 999))
        record.linksCount = 7
        record.sectors = 0x0000_1234_5678_9ABC
        record.flags = EXT4InodeRecord.extentsFlag
        record.block = Array(100..<160)
        record.xattrBlock = 0x0000_ABCD_1234_5678
        record.inlineXattrs = Array(repeating: 0x5A, count: 96)
        var bytes = [UInt8](repeating: 0, count: 256)
        record.encode(into: &bytes, at: 0)
        #expect(EXT4InodeRecord.size == 256)
        #expect(bytes.le16(at: 0x00) == 0o100644)  // i_mode
        #expect(bytes.le16(at: 0x02) == 0x2345)  // i_uid
        #expect(bytes.le16(at: 0x78) == 0x0001)  // l_i_uid_high
        #expect(bytes.le16(at: 0x18) == 0x7890)  // i_gid
        #expect(bytes.le16(at: 0x7A) == 0x0006)  // l_i_gid_high
        #expect(bytes.le32(at: 0x04) == 0x2345_6789)  // i_size_lo
        #expect(bytes.le32(at: 0x6C) == 1)  // i_size_high
        for offset in [0x08, 0x0C, 0x10, 0x90] { #expect(bytes.le32(at: offset) == 1_700_000_000) }  // a/c/m/crtime
        for offset in [0x84, 0x88, 0x8C, 0x94] { #expect(bytes.le32(at: offset) == 999 << 2) }  // *_extra
        #expect(bytes.le16(at: 0x1A) == 7)  // i_links_count
        #expect(bytes.le32(at: 0x1C) == 0x5678_9ABC)  // i_blocks_lo
        #expect(bytes.le16(at: 0x74) == 0x1234)  // l_i_blocks_high
        #expect(bytes.le32(at: 0x20) == 0x80000)  // i_flags: EXT4_EXTENTS_FL
        #expect(Array(bytes[0x28..<0x64]) == Array(100..<160))  // i_block
        #expect(bytes.le32(at: 0x68) == 0x1234_5678)  // i_file_acl_lo
        #expect(bytes.le16(at: 0x76) == 0xABCD)  // l_i_file_acl_high
        #expect(bytes.le16(at: 0x80) == 32)  // i_extra_isize
        #expect(bytes[0xA0..<0x100].allSatisfy { $0 == 0x5A })  // in-inode xattr space
    }

    @Test("times: epoch bits carry 1901…2446, nanoseconds in the upper 30 bits")
    func times() {
        let cases: [(Int64, UInt32, UInt32)] = [
            (0, 0, 0), (-1, 0xFFFF_FFFF, 0), (Int64(Int32.min), 0x8000_0000, 0), (Int64(Int32.max) + 1, 0x8000_0000, 1),
            (1 << 32, 0, 1), (Int64(Int32.max) + (3 << 32), 0x7FFF_FFFF, 3), (Int64.max, 0x7FFF_FFFF, 3), (Int64.min, 0x8000_0000, 0),
        ]
        for (seconds, low, epoch) in cases {
            let time = EXT4Time(Timestamp(seconds: seconds, nanoseconds: 999_999_999))
            #expect(time.seconds == low, "seconds \(seconds)")
            #expect(time.extra == (999_999_999 << 2) | epoch, "seconds \(seconds)")
        }
    }

    @Test("extent header, extent and index: 12 bytes each, fields at the offsets of ifork.rst")
    func extents() {
        var bytes = [UInt8](repeating: 0, count: 36)
        EXT4ExtentHeader(entries: 3, max: 4, depth: 2).encode(into: &bytes, at: 0)
        EXT4Extent(logical: 0x1111_1111, length: 0x8000, physical: 0x0000_2222_3333_3333).encode(into: &bytes, at: 12)
        EXT4ExtentIndex(logical: 0x4444_4444, leaf: 0x0000_5555_6666_6666).encode(into: &bytes, at: 24)
        #expect(bytes.le16(at: 0) == 0xF30A && bytes.le16(at: 2) == 3 && bytes.le16(at: 4) == 4 && bytes.le16(at: 6) == 2)
        #expect(bytes.le32(at: 12) == 0x1111_1111)  // ee_block
        #expect(bytes.le16(at: 16) == 0x8000)  // ee_len
        #expect(bytes.le16(at: 18) == 0x2222)  // ee_start_hi
        #expect(bytes.le32(at: 20) == 0x3333_3333)  // ee_start_lo
        #expect(bytes.le32(at: 24) == 0x4444_4444)  // ei_block
        #expect(bytes.le32(at: 28) == 0x6666_6666)  // ei_leaf_lo
        #expect(bytes.le16(at: 32) == 0x5555)  // ei_leaf_hi
        #expect(EXT4ExtentHeader.blockCapacity == 340)
    }

    @Test("directory entry: 8-byte header, name padded to 4 (directory.rst)")
    func directoryEntry() {
        var bytes = [UInt8](repeating: 0, count: 16)
        EXT4DirectoryEntry(inode: 0x0102_0304, recordLength: 16, fileType: 7, name: Array("abcde".utf8)).encode(into: &bytes, at: 0)
        #expect(bytes.le32(at: 0) == 0x0102_0304 && bytes.le16(at: 4) == 16 && bytes[6] == 5 && bytes[7] == 7)
        #expect(Array(bytes[8..<13]) == Array("abcde".utf8))
        #expect(EXT4DirectoryEntry.minimumLength(nameLength: 5) == 16)
        #expect(EXT4DirectoryEntry.minimumLength(nameLength: 255) == 264)
        #expect(EXT4DirectoryEntry.minimumLength(nameLength: 1) == 12)
    }

    @Test("xattr entry: 16-byte header then the name; hash as e2fsprogs computes it (attributes.rst)")
    func xattrEntry() {
        let entry = EXT4XattrEntry(index: 6, suffix: Array("capability".utf8), value: [1, 2, 3, 4, 5])
        var bytes = [UInt8](repeating: 0, count: 32)
        entry.encode(into: &bytes, at: 0, valueOffset: 0x1234)
        #expect(bytes[0] == 10 && bytes[1] == 6)  // e_name_len, e_name_index
        #expect(bytes.le16(at: 2) == 0x1234)  // e_value_offs
        #expect(bytes.le32(at: 4) == 0)  // e_value_inum
        #expect(bytes.le32(at: 8) == 5)  // e_value_size
        #expect(bytes.le32(at: 12) == entry.hash)  // e_hash
        #expect(Array(bytes[16..<26]) == Array("capability".utf8))
        #expect(entry.entryLength == 28)
        // The hash by hand: name bytes shifted by 5, value words by 16.
        var hash: UInt32 = 0
        for byte in "capability".utf8 { hash = (hash << 5) ^ (hash >> 27) ^ UInt32(byte) }
        for word: UInt32 in [0x0403_0201, 0x0000_0005] { hash = (hash << 16) ^ (hash >> 16) ^ word }
        #expect(entry.hash == hash)
    }

    @Test("backup groups: 0, 1 and powers of 3, 5, 7")
    func backupGroups() {
        #expect(Array(EXT4Geometry.backupGroups.prefix(12)) == [0, 1, 3, 5, 7, 9, 25, 27, 49, 81, 125, 243])
        #expect(EXT4Geometry.firstFreeBlock(ofGroup: 0) == 65)
        #expect(EXT4Geometry.firstFreeBlock(ofGroup: 2) == 65536)
        #expect(EXT4Geometry.firstFreeBlock(ofGroup: 3) == 3 * 32768 + 65)
    }
}
