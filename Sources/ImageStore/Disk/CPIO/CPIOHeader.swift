/// One newc ("new ASCII", magic `070701`) entry header, as the kernel's initramfs unpacker and
/// `cpio -H newc` read it.
///
/// ```
/// offset  size  field                      offset  size  field
///      0     6  magic "070701"                 62     8  devmajor (0 here)
///      6     8  ino                            70     8  devminor (0 here)
///     14     8  mode (type and permissions)    78     8  rdevmajor
///     22     8  uid                            86     8  rdevminor
///     30     8  gid                            94     8  namesize (name + NUL)
///     38     8  nlink                         102     8  check (0: newc has no checksum)
///     46     8  mtime (seconds, unsigned)     110        name, NUL, zero padding to 4
///     54     8  filesize                                 data, zero padding to 4
/// ```
/// Every number is eight uppercase hexadecimal digits.
struct CPIOHeader: Equatable {
    static let size = 110
    static let magic = Array("070701".utf8)
    /// The name of the entry that ends an archive.
    static let trailerName = Array("TRAILER!!!".utf8)
    /// The longest name (without its NUL) the kernel accepts: namesize ≤ PATH_MAX.
    static let maxNameLength = 4095

    var inode: UInt32
    var mode: UInt32
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    var nlink: UInt32
    var mtime: UInt32 = 0
    var fileSize: UInt32 = 0
    var rdevMajor: UInt32 = 0
    var rdevMinor: UInt32 = 0

    /// The header followed by `name`, its NUL and the padding that aligns the data to 4 bytes.
    func encoded(name: [UInt8]) -> [UInt8] {
        var bytes = CPIOHeader.magic
        bytes.reserveCapacity(CPIOHeader.size + name.count + 4)
        for value in [inode, mode, uid, gid, nlink, mtime, fileSize, 0, 0, rdevMajor, rdevMinor, UInt32(name.count + 1), 0] {
            CPIOHeader.appendHex(value, to: &bytes)
        }
        bytes += name
        bytes.append(0)
        bytes += repeatElement(0, count: CPIOHeader.padding(bytes.count))
        return bytes
    }

    /// The trailer entry: ino 0, mode 0, nlink 1, no data.
    static let trailer = CPIOHeader(inode: 0, mode: 0, nlink: 1).encoded(name: trailerName)

    /// Zero bytes after `length` bytes to reach a multiple of 4.
    static func padding(_ length: Int) -> Int { (4 - length % 4) % 4 }

    private static let digits = Array("0123456789ABCDEF".utf8)

    private static func appendHex(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 28, through: 0, by: -4) {
            bytes.append(digits[Int((value >> UInt32(shift)) & 0xF)])
        }
    }
}
