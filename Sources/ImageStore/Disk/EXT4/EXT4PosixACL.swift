/// POSIX ACLs: the xattr form of the VFS (`posix_acl_xattr_header`, version 2, 8-byte entries
/// tag/perm/id) converted to ext4's compact on-disk form (`ext4_acl_header`, version 1;
/// 4-byte entries for USER_OBJ, GROUP_OBJ, MASK, OTHER; 8-byte for USER and GROUP).
enum EXT4PosixACL {
    private static let userObj: UInt16 = 0x01, user: UInt16 = 0x02, groupObj: UInt16 = 0x04
    private static let group: UInt16 = 0x08, mask: UInt16 = 0x10, other: UInt16 = 0x20

    /// The ext4 form of `xattr`, or `nil` when it is not a valid version-2 ACL.
    static func compact(_ xattr: [UInt8]) -> [UInt8]? {
        guard xattr.count >= 4, (xattr.count - 4) % 8 == 0, xattr.le32(at: 0) == 2 else { return nil }
        var out: [UInt8] = [1, 0, 0, 0]
        for offset in stride(from: 4, to: xattr.count, by: 8) {
            let tag = xattr.le16(at: offset)
            let perm = xattr.le16(at: offset + 2)
            var entry = [UInt8](repeating: 0, count: 4)
            entry.putLE16(tag, at: 0)
            entry.putLE16(perm, at: 2)
            switch tag {
            case userObj, groupObj, mask, other:
                break
            case user, group:
                entry.append(contentsOf: xattr[(offset + 4)..<(offset + 8)])
            default:
                return nil
            }
            out.append(contentsOf: entry)
        }
        return out
    }
}
