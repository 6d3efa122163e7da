/// The inline xattrs of one inode (`struct erofs_xattr_ibody_header`, 12 bytes, no shared
/// xattrs, then one `struct erofs_xattr_entry` per attribute: name_len, name_index, value_size
/// le16, the name suffix and the value, padded to 4 bytes), fs/erofs/erofs_fs.h and xattr.h.
///
/// Prefix indexes of Linux 6.1: 1 `user.`, 2 `system.posix_acl_access`, 3
/// `system.posix_acl_default`, 4 `trusted.`, 6 `security.`; ACL values are kept in the xattr
/// form the kernel hands to `posix_acl_from_xattr`.
struct EROFSXattrBody: Equatable {
    static let headerSize = 12
    static let maxValueSize = 0xFFFF

    /// Why an attribute has no erofs form.
    enum Problem: Error, Equatable {
        case unsupportedNamespace
        case badName
        case valueTooLarge
    }

    /// The encoded body (header and entries); empty for no attributes.
    let bytes: [UInt8]

    /// `i_xattr_icount`.
    var count: UInt16 {
        bytes.isEmpty ? 0 : UInt16(truncatingIfNeeded: (bytes.count - EROFSXattrBody.headerSize) / 4 + 1)
    }

    /// Encodes `xattrs` in their order.
    ///
    /// - Throws: the first attribute that cannot be stored, with its problem.
    init(_ xattrs: [Xattr]) throws(EROFSXattrBodyError) {
        guard !xattrs.isEmpty else {
            bytes = []
            return
        }
        var bytes = [UInt8](repeating: 0, count: EROFSXattrBody.headerSize)
        for xattr in xattrs {
            let (index, suffix): (UInt8, [UInt8])
            switch EROFSXattrBody.split(xattr.name) {
            case .success(let value): (index, suffix) = value
            case .failure(let problem): throw EROFSXattrBodyError(name: xattr.name, problem: problem)
            }
            guard xattr.value.count <= EROFSXattrBody.maxValueSize else {
                throw EROFSXattrBodyError(name: xattr.name, problem: .valueTooLarge)
            }
            let start = bytes.count
            bytes.append(UInt8(suffix.count))
            bytes.append(index)
            bytes.append(UInt8(truncatingIfNeeded: xattr.value.count))
            bytes.append(UInt8(truncatingIfNeeded: xattr.value.count >> 8))
            bytes.append(contentsOf: suffix)
            bytes.append(contentsOf: xattr.value)
            let length = bytes.count - start
            bytes.append(contentsOf: repeatElement(0, count: (4 - length % 4) % 4))
        }
        self.bytes = bytes
    }

    /// The prefix index and name suffix of `name`.
    static func split(_ name: String) -> Result<(UInt8, [UInt8]), Problem> {
        let exact: [(String, UInt8)] = [("system.posix_acl_access", 2), ("system.posix_acl_default", 3)]
        for (full, index) in exact where name == full { return .success((index, [])) }
        let prefixes: [(String, UInt8)] = [("user.", 1), ("trusted.", 4), ("security.", 6)]
        for (prefix, index) in prefixes where name.hasPrefix(prefix) {
            let suffix = Array(name.utf8.dropFirst(prefix.utf8.count))
            guard !suffix.isEmpty, suffix.count <= 255 else { return .failure(.badName) }
            return .success((index, suffix))
        }
        return .failure(.unsupportedNamespace)
    }
}

/// An attribute of ``EROFSXattrBody`` that cannot be stored.
struct EROFSXattrBodyError: Error, Equatable {
    var name: String
    var problem: EROFSXattrBody.Problem
}
