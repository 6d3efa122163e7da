/// One entry of a newc archive as a strict reader sees it (test helper).
struct CPIOParsedEntry: Equatable {
    var name: [UInt8]
    var inode: UInt32
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var nlink: UInt32
    var mtime: UInt32
    var size: UInt32
    var devMajor: UInt32
    var devMinor: UInt32
    var rdevMajor: UInt32
    var rdevMinor: UInt32
    var check: UInt32
    var data: [UInt8]

    var path: String { String(decoding: name, as: UTF8.self) }

    struct Malformed: Error, CustomStringConvertible {
        var offset: Int
        var reason: String
        var description: String { "newc archive malformed at \(offset): \(reason)" }
    }

    /// Parses a whole archive: magic, hex fields, NUL-terminated names, padding to 4 after the
    /// name and after the data, a trailer at the very end and nothing after it.
    static func parse(_ bytes: [UInt8]) throws -> [CPIOParsedEntry] {
        var entries: [CPIOParsedEntry] = []
        var offset = 0
        func field(_ index: Int) throws -> UInt32 {
            let start = offset + 6 + index * 8
            guard start + 8 <= bytes.count, let value = UInt32(String(decoding: bytes[start..<start + 8], as: UTF8.self), radix: 16)
            else { throw Malformed(offset: start, reason: "bad hex field \(index)") }
            return value
        }
        while true {
            guard offset + 110 <= bytes.count, Array(bytes[offset..<offset + 6]) == Array("070701".utf8) else {
                throw Malformed(offset: offset, reason: "no newc header")
            }
            let nameSize = Int(try field(11))
            let size = Int(try field(6))
            let nameStart = offset + 110
            guard nameSize > 0, nameStart + nameSize <= bytes.count, bytes[nameStart + nameSize - 1] == 0 else {
                throw Malformed(offset: nameStart, reason: "name not NUL-terminated")
            }
            let dataStart = (nameStart + nameSize + 3) & ~3
            guard dataStart + size <= bytes.count, bytes[(nameStart + nameSize)..<dataStart].allSatisfy({ $0 == 0 }) else {
                throw Malformed(offset: dataStart, reason: "bad name padding or data past the end")
            }
            let entry = CPIOParsedEntry(
                name: Array(bytes[nameStart..<nameStart + nameSize - 1]), inode: try field(0), mode: try field(1),
                uid: try field(2), gid: try field(3), nlink: try field(4), mtime: try field(5), size: UInt32(size),
                devMajor: try field(7), devMinor: try field(8), rdevMajor: try field(9), rdevMinor: try field(10),
                check: try field(12), data: Array(bytes[dataStart..<dataStart + size]))
            entries.append(entry)
            let end = (dataStart + size + 3) & ~3
            guard end <= bytes.count, bytes[(dataStart + size)..<end].allSatisfy({ $0 == 0 }) else {
                throw Malformed(offset: dataStart + size, reason: "bad data padding")
            }
            offset = end
            if entry.name == Array("TRAILER!!!".utf8) { break }
        }
        guard offset == bytes.count else { throw Malformed(offset: offset, reason: "bytes after the trailer") }
        return entries
    }
}
