/// The veritysetup superblock (cryptsetup's `struct verity_sb`, 512 bytes, little-endian),
/// written in the first hash block at the hash offset. The kernel never reads it; veritysetup
/// takes block sizes, data block count, algorithm and salt from it.
///
/// ```
/// offset size field
///      0    8 signature "verity\0\0"
///      8    4 version 1
///     12    4 hash type 1 (format 1: salt prepended)
///     16   16 uuid
///     32   32 algorithm "sha256", NUL-padded
///     64    4 data block size
///     68    4 hash block size
///     72    8 data blocks
///     80    2 salt size
///     82    6 padding
///     88  256 salt, zero-padded
///    344  168 padding
/// ```
struct VeritySuperblock: Equatable {
    static let size = 512

    /// The UUID veritysetup prints and a udev rule may match.
    var uuid: [UInt8]
    /// Blocks of the filesystem area.
    var dataBlocks: UInt64
    /// The salt, at most 256 bytes.
    var salt: [UInt8]

    /// The 512 bytes of the superblock.
    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.putBytes(Array("verity".utf8), at: 0)
        bytes.putLE32(1, at: 8)
        bytes.putLE32(1, at: 12)
        bytes.putBytes(uuid.prefix(16), at: 16)
        bytes.putBytes(Array("sha256".utf8), at: 32)
        bytes.putLE32(UInt32(Verity.blockSize), at: 64)
        bytes.putLE32(UInt32(Verity.blockSize), at: 68)
        bytes.putLE64(dataBlocks, at: 72)
        bytes.putLE16(UInt16(min(salt.count, 256)), at: 80)
        bytes.putBytes(salt.prefix(256), at: 88)
        return bytes
    }

    /// A UUID derived from the salt (version 4 and RFC 4122 variant bits set), so a rebuild
    /// writes the same superblock.
    static func uuid(forSalt salt: [UInt8]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Verity.digestSize)
        let hasher = SHA256()
        hasher.update(Array("image-worker verity uuid v1\n".utf8) + salt)
        bytes.withUnsafeMutableBytes { hasher.finalize(into: $0) }
        var uuid = Array(bytes.prefix(16))
        uuid[6] = (uuid[6] & 0x0f) | 0x40
        uuid[8] = (uuid[8] & 0x3f) | 0x80
        return uuid
    }
}
