/// A linear directory entry (`struct ext4_dir_entry_2`, Documentation/filesystems/ext4/directory.rst):
/// inode (4), rec_len (2), name_len (1), file_type (1), the name padded to 4 bytes.
struct EXT4DirectoryEntry: Equatable {
    static let headerSize = 8

    var inode: UInt32
    var recordLength: UInt16
    var fileType: UInt8
    var name: [UInt8]

    /// Bytes an entry with a name of `nameLength` bytes needs at least.
    static func minimumLength(nameLength: Int) -> Int {
        (headerSize + nameLength + 3) & ~3
    }

    func encode(into bytes: inout [UInt8], at offset: Int) {
        bytes.putLE32(inode, at: offset)
        bytes.putLE16(recordLength, at: offset + 4)
        bytes[offset + 6] = UInt8(truncatingIfNeeded: name.count)
        bytes[offset + 7] = fileType
        bytes.putBytes(name, at: offset + 8)
    }

    /// `file_type` for an inode kind (filetype feature).
    static func fileType(_ kind: InodeKind) -> UInt8 {
        switch kind {
        case .regular: return 1
        case .directory: return 2
        case .characterDevice: return 3
        case .blockDevice: return 4
        case .fifo: return 5
        case .socket: return 6
        case .symlink: return 7
        }
    }
}
