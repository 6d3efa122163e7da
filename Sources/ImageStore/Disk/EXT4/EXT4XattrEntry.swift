/// One extended attribute as ext4 stores it (`struct ext4_xattr_entry`,
/// Documentation/filesystems/ext4/attributes.rst): name_len (1), name_index (1),
/// value_offs (2), value_inum (4), value_size (4), hash (4), the name suffix padded to 4.
struct EXT4XattrEntry: Equatable {
    static let headerSize = 16

    /// The prefix index: 1 `user.`, 2 `system.posix_acl_access`, 3 `system.posix_acl_default`,
    /// 4 `trusted.`, 6 `security.`.
    var index: UInt8
    /// The name without its prefix.
    var suffix: [UInt8]
    /// The value as stored (POSIX ACLs already in ext4's compact form).
    var value: [UInt8]

    var entryLength: Int { (EXT4XattrEntry.headerSize + suffix.count + 3) & ~3 }
    var valueLength: Int { (value.count + 3) & ~3 }

    /// `ext2fs_ext_attr_hash_entry`: the name bytes, then the value as little-endian words.
    var hash: UInt32 {
        var hash: UInt32 = 0
        for byte in suffix { hash = (hash << 5) ^ (hash >> 27) ^ UInt32(byte) }
        if !value.isEmpty {
            var padded = value
            padded.append(contentsOf: repeatElement(0, count: valueLength - value.count))
            for word in stride(from: 0, to: padded.count, by: 4) {
                hash = (hash << 16) ^ (hash >> 16) ^ padded.le32(at: word)
            }
        }
        return hash
    }

    /// The kernel looks attributes up in (index, name length, name) order.
    static func precedes(_ lhs: EXT4XattrEntry, _ rhs: EXT4XattrEntry) -> Bool {
        if lhs.index != rhs.index { return lhs.index < rhs.index }
        if lhs.suffix.count != rhs.suffix.count { return lhs.suffix.count < rhs.suffix.count }
        return lhs.suffix.lexicographicallyPrecedes(rhs.suffix)
    }

    /// Writes the entry header and name at `offset`; `valueOffset` as the region counts it.
    func encode(into bytes: inout [UInt8], at offset: Int, valueOffset: Int) {
        bytes[offset] = UInt8(truncatingIfNeeded: suffix.count)
        bytes[offset + 1] = index
        bytes.putLE16(UInt16(truncatingIfNeeded: valueOffset), at: offset + 2)
        bytes.putLE32(0, at: offset + 4)
        bytes.putLE32(UInt32(truncatingIfNeeded: value.count), at: offset + 8)
        bytes.putLE32(hash, at: offset + 12)
        bytes.putBytes(suffix, at: offset + EXT4XattrEntry.headerSize)
    }

    /// The entry for a model attribute, or the reason it has no ext4 form.
    static func make(_ xattr: Xattr) -> Result<EXT4XattrEntry, EXT4XattrProblem> {
        let name = Array(xattr.name.utf8)
        let exact: [(String, UInt8)] = [("system.posix_acl_access", 2), ("system.posix_acl_default", 3)]
        for (full, index) in exact where xattr.name == full {
            guard let acl = EXT4PosixACL.compact(xattr.value) else { return .failure(.invalidACL) }
            return .success(EXT4XattrEntry(index: index, suffix: [], value: acl))
        }
        let prefixes: [(String, UInt8)] = [("user.", 1), ("trusted.", 4), ("security.", 6)]
        for (prefix, index) in prefixes where xattr.name.hasPrefix(prefix) {
            let suffix = Array(name.dropFirst(prefix.utf8.count))
            guard !suffix.isEmpty, suffix.count <= 255 else { return .failure(.badName) }
            return .success(EXT4XattrEntry(index: index, suffix: suffix, value: xattr.value))
        }
        return .failure(.unsupportedNamespace)
    }
}

/// Why an attribute cannot be stored.
enum EXT4XattrProblem: Error, Equatable {
    case unsupportedNamespace
    case badName
    case invalidACL
}
