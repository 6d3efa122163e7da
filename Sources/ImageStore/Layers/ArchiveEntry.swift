/// One tar entry header, as plain Swift values.
///
/// The path is kept as the raw bytes of the header so that names which are not UTF-8 survive
/// unchanged; ``displayPath`` is only for messages.
struct ArchiveEntry: Sendable {
    /// What kind of file the entry creates.
    enum Kind: Sendable, Equatable {
        case regular
        case directory
        case symlink
        case hardlink
        case fifo
        case characterDevice
        case blockDevice
        case socket
        case unknown(UInt32)
    }

    /// The entry path exactly as stored in the header.
    var path: [UInt8]
    var kind: Kind
    /// Permission bits including setuid, setgid and sticky (`0o7777`).
    var permissions: UInt32
    /// Owner ids as stored; the applier rejects values outside `0..<UInt32.max`.
    var uid: Int64
    var gid: Int64
    /// Apparent size in bytes (for sparse files, the full logical size).
    var size: Int64
    var mtimeSeconds: Int64
    var mtimeNanoseconds: Int64
    /// Target of a symlink, exactly as written.
    var symlinkTarget: [UInt8]?
    /// Path of the entry a hardlink points to, as written.
    var hardlinkTarget: [UInt8]?
    /// Device number (already combined) and its parts, for device nodes.
    var rdev: UInt64
    var rdevMajor: UInt32
    var rdevMinor: UInt32
    /// Extended attributes in header order.
    var xattrs: [(name: String, value: [UInt8])]

    /// The path for messages: UTF-8 where valid, `\xNN` for other bytes.
    var displayPath: String { ArchiveEntry.display(path) }

    static func display(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var result = ""
        for byte in bytes {
            if byte >= 0x20 && byte < 0x7F {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                result += "\\x" + String(byte, radix: 16, uppercase: false).leftPadded(to: 2)
            }
        }
        return result
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
