import CFalloc
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The output file of the ext4 and erofs writers, addressed in blocks: writes to consecutive
/// blocks are gathered into aligned 1 MiB buffers that a thread of the file's own writes out,
/// `O_DIRECT` where the filesystem takes it (no page-cache copy, no writeback later), several
/// buffers in flight; released blocks are punched out (the file stays sparse and no dead data
/// remains). With a ``VerityBlockHasher`` the disk-write thread hands each buffer it has
/// written, and each punch, to the hashing thread, which frees the buffer once hashed: the
/// dm-verity tree needs no second read of the disk and no copy of its data, and hashing one
/// buffer overlaps the write of the next.
///
/// ```
/// caller:        write(bytes, at:) ─copy─▶ [buffer] ─▶ queue ─┐     (punches queue in order)
/// write thread:  pwrite (O_DIRECT) ─▶ verity.record ─▶ hash thread ─▶ buffer free ◀┘
/// ```
///
/// Blocking; the caller's side is confined to one thread. A failed write is thrown by the
/// next call.
final class EXT4BlockFile {
    let path: String
    /// Hashes the blocks as they are written, when the disk gets a dm-verity tree.
    private let verity: VerityBlockHasher?
    private let handOff = BlockHandOff(buffers: EXT4BlockFile.buffers, bufferSize: EXT4BlockFile.capacity)
    private let output: Output
    /// The buffer being filled, its first block and its bytes so far (whole blocks).
    private var current: Int?
    private var currentStart: UInt64 = 0
    private var currentCount = 0
    static let capacity = 1 << 20
    static let buffers = 6

    /// Creates `path`, which must not exist; `veritySalt` starts a ``VerityBlockHasher``.
    init(creating path: String, veritySalt: [UInt8]? = nil) throws(DiskError) {
        var descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_DIRECT, 0o644)
        var direct = true
        if descriptor < 0 && errno == EINVAL {
            // tmpfs and some others refuse O_DIRECT at open: write through the page cache.
            descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            direct = false
        }
        guard descriptor >= 0 else { throw .io(path: path, operation: "create", errno: errno) }
        self.path = path
        let verity: VerityBlockHasher?
        do {
            verity = try veritySalt.map { salt throws(DiskError) in try VerityBlockHasher(salt: salt, beside: path) }
        } catch {
            close(descriptor)
            throw error
        }
        self.verity = verity
        output = Output(descriptor: descriptor, path: path, direct: direct, verity: verity, handOff: handOff)
        let thread = Thread { [handOff, output] in
            handOff.serve(buffer: output.write, punch: output.punch)
        }
        thread.name = "disk-write"
        thread.start()
    }

    deinit { handOff.enqueue(.end) }

    /// Writes `bytes` (a whole number of blocks, or fewer bytes padded with zeros to a block)
    /// at block `block`.
    func write(_ bytes: UnsafeRawBufferPointer, at block: UInt64) throws(DiskError) {
        let blockSize = EXT4Geometry.blockSize
        var offset = 0
        var next = block
        while offset < bytes.count {
            if current == nil || currentStart + UInt64(currentCount / blockSize) != next
                || currentCount == EXT4BlockFile.capacity
            {
                try submit()
                current = try handOff.takeFree()
                currentStart = next
                currentCount = 0
            }
            guard let slot = current else { break }
            let length = min(bytes.count - offset, EXT4BlockFile.capacity - currentCount)
            let buffer = handOff.buffers[slot]
            UnsafeMutableRawBufferPointer(rebasing: buffer[currentCount..<(currentCount + length)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
            let padded = (length + blockSize - 1) / blockSize * blockSize
            if padded > length {
                UnsafeMutableRawBufferPointer(rebasing: buffer[(currentCount + length)..<(currentCount + padded)])
                    .initializeMemory(as: UInt8.self, repeating: 0)
            }
            currentCount += padded
            offset += length
            next += UInt64(padded / blockSize)
        }
    }

    /// Writes `bytes` at block `block`, zero-padded to a whole block.
    func write(_ bytes: [UInt8], at block: UInt64) throws(DiskError) {
        try write(bytes, range: bytes.indices, at: block)
    }

    /// Writes `bytes[range]` at block `block`, zero-padded to a whole block.
    func write(_ bytes: [UInt8], range: Range<Int>, at block: UInt64) throws(DiskError) {
        var failure: DiskError?
        bytes.withUnsafeBytes { raw in
            do throws(DiskError) { try write(UnsafeRawBufferPointer(rebasing: raw[range]), at: block) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Writes out everything gathered and waits until it is written.
    func flush() throws(DiskError) {
        try submit()
        try handOff.drain()
    }

    /// Deallocates `count` blocks from `block` in the output file (they read back as zeros),
    /// after every write before it.
    func punch(_ block: UInt64, count: UInt64) throws(DiskError) {
        try submit()
        handOff.enqueue(.punch(first: block, count: count))
    }

    /// Flushes, then sets the file's size to `blocks` blocks.
    func finish(blocks: UInt64) throws(DiskError) {
        try flush()
        guard ftruncate(output.descriptor, off_t(blocks << EXT4Geometry.blockShift)) == 0 else {
            throw .io(path: path, operation: "truncate", errno: errno)
        }
    }

    /// Level 0 of the dm-verity tree: the hashes of every block as written so far, once
    /// everything gathered is written; `nil` without a verity salt.
    func verityLevelZero() throws(DiskError) -> SpoolFile? {
        guard let verity else { return nil }
        try flush()
        return try verity.finish()
    }

    /// Queues the buffer being filled, if any.
    private func submit() throws(DiskError) {
        guard let slot = current else { return }
        current = nil
        if currentCount == 0 {
            handOff.release(slot)
            return
        }
        handOff.enqueue(.buffer(slot: slot, first: currentStart, bytes: currentCount))
        try handOff.check()
    }

    /// The open file and the verity hasher, used by the disk-write thread only (until the
    /// caller has drained it: then the caller sets the size and finishes the hasher).
    ///
    /// `@unchecked Sendable`: `direct`, `writeBehind` and `verity` are used by one thread at a
    /// time, handed over through the ``BlockHandOff``'s lock.
    private final class Output: @unchecked Sendable {
        let descriptor: Int32
        let path: String
        let verity: VerityBlockHasher?
        /// Where a buffer handed to `verity` goes back once hashed.
        let handOff: BlockHandOff
        /// Whether writes bypass the page cache; cleared (with `O_DIRECT`) when a filesystem
        /// that took the flag at open refuses a direct write.
        private var direct: Bool
        private var writeBehind = WriteBehind()

        init(descriptor: Int32, path: String, direct: Bool, verity: VerityBlockHasher?, handOff: BlockHandOff) {
            self.descriptor = descriptor
            self.path = path
            self.direct = direct
            self.verity = verity
            self.handOff = handOff
        }

        deinit { close(descriptor) }

        /// Writes `bytes` (buffer `slot`) at block `first` and hands them to the verity hasher,
        /// which frees the buffer: returns whether the buffer is done with here. A direct write
        /// refused with EINVAL turns `O_DIRECT` off and goes through the page cache instead.
        func write(_ bytes: UnsafeRawBufferPointer, at first: UInt64, slot: Int) throws(DiskError) -> Bool {
            let offset = Int64(first << EXT4Geometry.blockShift)
            do {
                try PositionedWrite.all(bytes, to: descriptor, at: offset, path: path)
            } catch .io(_, _, EINVAL) where direct {
                direct = false
                _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_DIRECT)
                try PositionedWrite.all(bytes, to: descriptor, at: offset, path: path)
            }
            if !direct { writeBehind.wrote(bytes.count, to: descriptor) }
            guard let verity else { return true }
            try verity.record(bytes, at: first) { [handOff] in handOff.release(slot) }
            return false
        }

        /// Deallocates `count` blocks from block `first`, in the hasher's store too.
        func punch(_ first: UInt64, count: UInt64) throws(DiskError) {
            let result = cfalloc_punch_hole(
                descriptor, off_t(first << EXT4Geometry.blockShift), off_t(count << EXT4Geometry.blockShift))
            guard result == 0 else { throw .io(path: path, operation: "punch a hole in", errno: errno) }
            try verity?.recordPunch(first, count: count)
        }
    }
}
