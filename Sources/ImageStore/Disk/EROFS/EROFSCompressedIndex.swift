/// The map of a compressed file (`COMPRESSED_FULL` layout, fs/erofs/erofs_fs.h): after the
/// inode and its xattrs, aligned to 8, a `struct z_erofs_map_header` (8 bytes, all zero here:
/// LZ4, 4 KiB logical clusters, no big pclusters), 8 reserved bytes (`Z_EROFS_FULL_INDEX_ALIGN`)
/// and one `struct z_erofs_lcluster_index`
/// (8 bytes) per 4 KiB of the file: di_advise (type: 0 PLAIN, 1 HEAD, 2 NONHEAD),
/// di_clusterofs, then the pcluster's block (HEAD, PLAIN) or two deltas (NONHEAD: lclusters
/// back to the extent's head, and on to the next head).
///
/// An extent starts in its head lcluster at `clusterofs`; lclusters it covers whole or starts
/// beyond are NONHEAD; the lcluster holding the end of the file, if no extent starts there,
/// gets a PLAIN index whose `clusterofs` is the end (as mkfs.erofs writes it).
enum EROFSCompressedIndex {
    /// The map header and the 8 bytes after it.
    static let headerSize = 16
    static let indexSize = 8

    static let typePlain: UInt16 = 0
    static let typeHead: UInt16 = 1
    static let typeNonHead: UInt16 = 2

    /// The bytes after the xattrs: padding to 8 (the inode and xattrs take `before` bytes from
    /// the inode's 32-byte-aligned start), the map header and the indexes.
    static func encode(_ extents: [EROFSPcluster.Extent], size: Int64, before: Int) -> [UInt8] {
        let padding = (8 - before % 8) % 8
        let count = Int(EROFSGeometry.blocks(size))
        var bytes = [UInt8](repeating: 0, count: padding + headerSize + count * indexSize)
        let base = padding + headerSize
        var assigned = [Bool](repeating: false, count: count)
        var start: Int64 = 0
        for extent in extents {
            let head = Int(start >> EROFSGeometry.blockShift)
            let end = start + Int64(extent.length)
            let next = Int(end >> EROFSGeometry.blockShift)
            let at = base + head * indexSize
            bytes.putLE16(extent.plain ? typePlain : typeHead, at: at)
            bytes.putLE16(UInt16(start & Int64(EROFSGeometry.blockSize - 1)), at: at + 2)
            bytes.putLE32(extent.block, at: at + 4)
            assigned[head] = true
            if next > head + 1 {
                for lcluster in (head + 1)..<next {
                    let at = base + lcluster * indexSize
                    bytes.putLE16(typeNonHead, at: at)
                    bytes.putLE16(UInt16(lcluster - head), at: at + 4)
                    bytes.putLE16(UInt16(next - lcluster), at: at + 6)
                    assigned[lcluster] = true
                }
            }
            start = end
        }
        let last = Int(size >> EROFSGeometry.blockShift)
        if last < count && !assigned[last] {
            let at = base + last * indexSize
            bytes.putLE16(typePlain, at: at)
            bytes.putLE16(UInt16(size & Int64(EROFSGeometry.blockSize - 1)), at: at + 2)
        }
        return bytes
    }
}
