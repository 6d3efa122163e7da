import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension VerityInfo {
    /// The figures of a disk that already carries a tree (``VerityTreeWriter`` wrote it), read
    /// back from the file: the filesystem area's size follows from the file size (data blocks +
    /// superblock + tree, ``VerityGeometry``), the superblock must name that many blocks and
    /// `salt`, and the root hash is SHA-256(salt ‖ top tree block). Reads two blocks.
    ///
    /// - Returns: `nil` when the file does not end with such a tree (another salt, no tree, a
    ///   truncated file): build it again.
    static func read(from path: String, salt: [UInt8]) -> VerityInfo? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        let block = UInt64(Verity.blockSize)
        guard fstat(descriptor, &info) == 0, info.st_size > 0, UInt64(info.st_size) % block == 0 else { return nil }
        let fileBlocks = UInt64(info.st_size) / block
        // fileBlocks = D + 1 + tree(D), increasing in D; tree(D) < D / 127 + 64.
        var candidate = fileBlocks - 1
        var geometry: VerityGeometry?
        while candidate > 0, fileBlocks - 1 - candidate <= candidate / 127 + 64 {
            let trial = VerityGeometry(dataBlocks: candidate)
            if trial.dataBlocks + 1 + trial.treeBlocks == fileBlocks {
                geometry = trial
                break
            }
            candidate -= 1
        }
        guard let geometry else { return nil }
        let hashOffset = geometry.dataBlocks * block
        guard let superblock = readBlock(descriptor, at: hashOffset) else { return nil }
        let expected = VeritySuperblock(
            uuid: VeritySuperblock.uuid(forSalt: salt), dataBlocks: geometry.dataBlocks, salt: salt
        ).encoded()
        guard Array(superblock.prefix(VeritySuperblock.size)) == expected else { return nil }
        let top =
            geometry.levelBlocks.isEmpty ? 0 : geometry.dataBlocks + 1 + geometry.levelStart[geometry.levelBlocks.count - 1]
        guard let topBlock = readBlock(descriptor, at: top * block) else { return nil }
        var root = [UInt8](repeating: 0, count: Verity.digestSize)
        let hasher = SHA256()
        hasher.update(salt)
        hasher.update(topBlock)
        root.withUnsafeMutableBytes { hasher.finalize(into: $0) }
        return VerityInfo(
            rootHash: Verity.hex(root), salt: Verity.hex(salt), hashOffset: hashOffset, dataBlocks: geometry.dataBlocks)
    }

    private static func readBlock(_ descriptor: Int32, at offset: UInt64) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: Verity.blockSize)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, Verity.blockSize, off_t(offset)) }
        return count == Verity.blockSize ? bytes : nil
    }
}
