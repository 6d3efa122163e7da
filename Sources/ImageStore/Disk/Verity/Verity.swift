import Foundation

/// dm-verity for read-only disks: a SHA-256 hash tree appended after the filesystem, so a VM
/// platform can open the disk through the kernel's `verity` target and every block read is
/// checked against one trusted root hash.
///
/// One file holds the filesystem, a veritysetup superblock and the tree (format 1 of
/// Documentation/admin-guide/device-mapper/verity.rst, as `veritysetup format DISK DISK
/// --hash-offset=N` lays it out):
///
/// ```
/// 0                      hashOffset          hashOffset + 4096
/// ├─ filesystem area ────┼─ superblock ───────┼─ level L-1 ─┼─ … ─┼─ level 0 ─┤
/// │ dataBlocks × 4 KiB   │ 512 bytes, padded  │ (one block)  │     │ hashes of │
/// │ (zero-padded to 4K)  │ to one 4 KiB block │ top level    │     │ data blocks│
/// ```
///
/// - Data and hash blocks are 4 KiB; a hash is SHA-256(salt ‖ block), 32 bytes, 128 per hash
///   block, the rest of a block zero. Level 0 hashes the data blocks, level i+1 hashes the
///   blocks of level i, until one block remains; levels are stored top first. The root hash is
///   SHA-256(salt ‖ top block) (with one data block, SHA-256(salt ‖ data block), no levels).
/// - The superblock (``VeritySuperblock``) records version, hash type 1, a UUID, `sha256`, both
///   block sizes, the data block count and the salt, so `veritysetup verify|open DISK DISK ROOT
///   --hash-offset=hashOffset` needs nothing else. The kernel never reads it: a dm table names
///   the tree's first block, `hashOffset / 4096 + 1` (``VerityInfo/kernelTable(dataDevice:hashDevice:)``).
/// - The salt is ``salt(manifestDigest:)``, so the same image always gets the same salt and
///   root hash, on any machine.
public enum Verity {
    /// Data and hash block size, bytes.
    public static let blockSize = 4096
    /// SHA-256 digest size, bytes.
    static let digestSize = 32
    /// Hashes in one hash block (4096 / 32).
    static let hashesPerBlock = 128
    /// log2 of ``hashesPerBlock``.
    static let hashesPerBlockShift: UInt64 = 7

    /// The salt of the disks of `manifestDigest`: SHA-256("image-worker verity v1\n" + digest),
    /// 32 bytes, the same on every machine and in every data directory.
    public static func salt(manifestDigest: Digest) -> [UInt8] {
        derivedSalt("digest\n\(manifestDigest.description)")
    }

    /// The salt of the per-layer disk (`erofs-layers`) of the layer `diffID`:
    /// SHA-256("image-worker verity v1\nlayer\n" + diff_id), so every image with the layer
    /// shares one disk and one root hash.
    public static func salt(layerDiffID diffID: Digest) -> [UInt8] {
        derivedSalt("layer\n\(diffID.description)")
    }

    /// The salt of a disk without a manifest digest (`export-tree`): derived from `name`, such
    /// as the output file name.
    public static func salt(name: String) -> [UInt8] {
        derivedSalt("name\n\(name)")
    }

    private static func derivedSalt(_ text: String) -> [UInt8] {
        var salt = [UInt8](repeating: 0, count: digestSize)
        let hasher = SHA256()
        hasher.update(Data("image-worker verity v1\n\(text)".utf8))
        salt.withUnsafeMutableBytes { hasher.finalize(into: $0) }
        return salt
    }

    /// SHA-256(salt ‖ block) of the first `count` 4 KiB blocks of `data`, written to the start of
    /// `hashes` (at least `count` × 32 bytes).
    static func hashBlocks(
        _ data: UnsafeRawBufferPointer, count: Int, salt: [UInt8], into hashes: inout [UInt8], hasher: SHA256
    ) {
        hashes.withUnsafeMutableBytes { output in
            hasher.saltedDigests(of: data, blockSize: blockSize, count: count, salt: salt, into: output)
        }
    }

    /// Lowercase hex of `bytes`, as veritysetup and dm tables write salts and hashes.
    static func hex(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
