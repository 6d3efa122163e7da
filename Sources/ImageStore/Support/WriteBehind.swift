import CFalloc

/// Starts the kernel's writeback of a file every ``interval`` bytes written, without waiting.
///
/// With gigabytes of RAM the kernel would otherwise keep every dirty page of a blob or a disk
/// until the fsync that makes it durable, and that fsync would write it all at once, after the
/// work. Started early, the device writes while the download and the writer still run, and
/// the final fsync waits for the last part only. A failure to start is ignored: the fsync
/// still writes everything.
struct WriteBehind {
    /// Bytes written between two starts.
    static let interval: Int64 = 8 << 20
    private var pending: Int64 = 0

    /// `count` more bytes were written to `descriptor`.
    mutating func wrote(_ count: Int, to descriptor: Int32) {
        pending += Int64(count)
        guard pending >= WriteBehind.interval else { return }
        pending = 0
        _ = cfalloc_start_writeback(descriptor)
    }
}
