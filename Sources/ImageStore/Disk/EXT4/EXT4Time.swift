/// An inode time as ext4 stores it with `extra_isize`: the low 32 bits of the seconds
/// (signed), and an `_extra` word of nanoseconds << 2 plus 2 epoch bits extending the range to
/// 1901…2446 (Documentation/filesystems/ext4/inodes.rst, "Inode Timestamps").
struct EXT4Time: Equatable {
    var seconds: UInt32
    var extra: UInt32

    static let minSeconds = Int64(Int32.min)
    static let maxSeconds = Int64(Int32.max) + (3 << 32)

    /// Times outside the encodable range are clamped to its ends.
    init(_ time: Timestamp) {
        let clamped = Swift.min(Swift.max(time.seconds, EXT4Time.minSeconds), EXT4Time.maxSeconds)
        let low = UInt32(truncatingIfNeeded: clamped)
        let epoch = UInt32(truncatingIfNeeded: (clamped - Int64(Int32(bitPattern: low))) >> 32) & 3
        seconds = low
        extra = (Swift.min(time.nanoseconds, 999_999_999) << 2) | epoch
    }
}
