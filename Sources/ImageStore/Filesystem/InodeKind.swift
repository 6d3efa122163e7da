/// What an inode of the filesystem model is.
public enum InodeKind: UInt8, Sendable, Equatable, CaseIterable {
    case regular
    case directory
    case symlink
    case characterDevice
    case blockDevice
    case fifo
    case socket

    /// The `S_IFMT` bits of the POSIX mode for this kind (`0o100000` for a regular file, …).
    public var modeType: UInt32 {
        switch self {
        case .regular: return 0o100000
        case .directory: return 0o040000
        case .symlink: return 0o120000
        case .characterDevice: return 0o020000
        case .blockDevice: return 0o060000
        case .fifo: return 0o010000
        case .socket: return 0o140000
        }
    }
}
