import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Appends the dm-verity superblock and hash tree (see ``Verity``) to a finished disk file.
///
/// Streaming with bounded memory: data is read 4 MiB at a time (1,024 blocks, whose hashes fill
/// 8 level-0 blocks that are written at once), two workers hash alternate chunks on the
/// ``BlockingExecutor`` (both cores), and each upper level is computed from the level below it
/// as written to the file (1/128 of the data). Peak memory is about 2 × 4.1 MiB whatever the
/// disk size. The filesystem area is first zero-padded to a multiple of 4 KiB.
struct VerityTreeWriter: Sendable {
    /// The salt, prepended to every hashed block.
    let salt: [UInt8]
    /// Data blocks per read; a multiple of ``Verity/hashesPerBlock``.
    static let chunkBlocks = 1024
    /// Workers hashing the data blocks.
    static let workers = 2

    /// Appends the tree to `path` and returns where it is and its root hash.
    ///
    /// - Parameter levelZero: the hashes of the blocks as they were written
    ///   (``VerityBlockHasher/finish()``, made with this salt): level 0 is copied from it
    ///   instead of reading and hashing the data again. `nil` reads the data.
    /// - Throws: ``DiskError/io(path:operation:errno:)``, `CancellationError`.
    func append(to path: String, levelZero: SpoolFile? = nil) async throws -> VerityInfo {
        let geometry = try await CancellationFlag.runBlocking { _ in try Self.prepare(path) }
        let writer = self
        if let levelZero, !geometry.levelBlocks.isEmpty {
            return try await CancellationFlag.runBlocking { flag in
                try writer.copyLevelZero(from: levelZero, to: path, geometry: geometry, isCancelled: { flag.isCancelled })
                return try writer.finish(path, geometry: geometry, isCancelled: { flag.isCancelled })
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<Self.workers where !geometry.levelBlocks.isEmpty {
                group.addTask {
                    try await CancellationFlag.runBlocking { flag in
                        try writer.hashData(path, geometry: geometry, worker: worker, isCancelled: { flag.isCancelled })
                    }
                }
            }
            try await group.waitForAll()
        }
        return try await CancellationFlag.runBlocking { flag in
            try writer.finish(path, geometry: geometry, isCancelled: { flag.isCancelled })
        }
    }

    // MARK: - Steps (blocking)

    /// Pads the filesystem area to whole blocks and sizes the file for superblock and tree.
    private static func prepare(_ path: String) throws(DiskError) -> VerityGeometry {
        let file = try VerityFile(path: path)
        let size = try file.size()
        let block = UInt64(Verity.blockSize)
        let geometry = VerityGeometry(dataBlocks: max(1, (size + block - 1) / block))
        let hashOffset = geometry.dataBlocks * block
        try file.truncate(to: hashOffset)  // zero padding of a partial last block
        try file.truncate(to: hashOffset + block + geometry.treeBlocks * block)
        return geometry
    }

    /// Level 0: the hashes of the data blocks of chunks `worker`, `worker + workers`, ….
    private func hashData(
        _ path: String, geometry: VerityGeometry, worker: Int, isCancelled: () -> Bool
    ) throws {
        let file = try VerityFile(path: path)
        let block = Verity.blockSize
        let chunk = UInt64(Self.chunkBlocks)
        let chunks = (geometry.dataBlocks + chunk - 1) / chunk
        let treeStart = geometry.dataBlocks + 1
        var data = [UInt8](repeating: 0, count: Self.chunkBlocks * block)
        var hashes = [UInt8](repeating: 0, count: Self.chunkBlocks * Verity.digestSize)
        let hasher = SHA256()
        for index in stride(from: UInt64(worker), to: chunks, by: Self.workers) {
            if isCancelled() { throw CancellationError() }
            let first = index * chunk
            let count = Int(min(chunk, geometry.dataBlocks - first))
            try file.read(into: &data, count: count * block, at: first * UInt64(block))
            hashBlocks(data, count: count, into: &hashes, hasher: hasher)
            let hashBlocks = (count + Verity.hashesPerBlock - 1) / Verity.hashesPerBlock
            let position = treeStart + geometry.levelStart[0] + first / UInt64(Verity.hashesPerBlock)
            try file.write(hashes, count: hashBlocks * block, at: position * UInt64(block))
        }
    }

    /// Level 0 from the hashes recorded as the blocks were written; an all-zero entry (a block
    /// never written, or punched) is the hash of a zero block.
    private func copyLevelZero(
        from store: SpoolFile, to path: String, geometry: VerityGeometry, isCancelled: () -> Bool
    ) throws {
        let file = try VerityFile(path: path)
        let chunk = UInt64(Self.chunkBlocks)
        let treeStart = geometry.dataBlocks + 1
        let digest = Verity.digestSize
        var zeroHash = [UInt8](repeating: 0, count: digest)
        let zeros = [UInt8](repeating: 0, count: Verity.blockSize)
        zeros.withUnsafeBytes { Verity.hashBlocks($0, count: 1, salt: salt, into: &zeroHash, hasher: SHA256()) }
        var hashes = [UInt8](repeating: 0, count: Self.chunkBlocks * digest)
        var first: UInt64 = 0
        while first < geometry.dataBlocks {
            if isCancelled() { throw CancellationError() }
            let count = Int(min(chunk, geometry.dataBlocks - first))
            try hashes.withUnsafeMutableBytes { raw in
                try store.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<(count * digest)]), at: Int64(first) * Int64(digest))
            }
            for index in 0..<count where hashes[(index * digest)..<((index + 1) * digest)].allSatisfy({ $0 == 0 }) {
                hashes.replaceSubrange((index * digest)..<((index + 1) * digest), with: zeroHash)
            }
            Self.zeroTail(of: &hashes, after: count)
            let hashBlocks = (count + Verity.hashesPerBlock - 1) / Verity.hashesPerBlock
            let position = treeStart + geometry.levelStart[0] + first / UInt64(Verity.hashesPerBlock)
            try file.write(hashes, count: hashBlocks * Verity.blockSize, at: position * UInt64(Verity.blockSize))
            first += UInt64(count)
        }
    }

    /// Levels 1 and up, the superblock and the root hash.
    private func finish(_ path: String, geometry: VerityGeometry, isCancelled: () -> Bool) throws -> VerityInfo {
        let file = try VerityFile(path: path)
        let block = Verity.blockSize
        let hashOffset = geometry.dataBlocks * UInt64(block)
        let treeStart = geometry.dataBlocks + 1
        var data = [UInt8](repeating: 0, count: Self.chunkBlocks * block)
        var hashes = [UInt8](repeating: 0, count: Self.chunkBlocks * Verity.digestSize)
        let hasher = SHA256()
        for level in geometry.levelBlocks.indices.dropFirst() {
            let sourceBlocks = geometry.levelBlocks[level - 1]
            var first: UInt64 = 0
            while first < sourceBlocks {
                if isCancelled() { throw CancellationError() }
                let count = Int(min(UInt64(Self.chunkBlocks), sourceBlocks - first))
                let source = treeStart + geometry.levelStart[level - 1] + first
                try file.read(into: &data, count: count * block, at: source * UInt64(block))
                hashBlocks(data, count: count, into: &hashes, hasher: hasher)
                let hashBlocks = (count + Verity.hashesPerBlock - 1) / Verity.hashesPerBlock
                let target = treeStart + geometry.levelStart[level] + first / UInt64(Verity.hashesPerBlock)
                try file.write(hashes, count: hashBlocks * block, at: target * UInt64(block))
                first += UInt64(count)
            }
        }
        // The root hashes the single top block, or the only data block of a one-block disk.
        let top = geometry.levelBlocks.isEmpty ? 0 : treeStart + geometry.levelStart[geometry.levelBlocks.count - 1]
        try file.read(into: &data, count: block, at: top * UInt64(block))
        var root = [UInt8](repeating: 0, count: Verity.hashesPerBlock * Verity.digestSize)
        hashBlocks(data, count: 1, into: &root, hasher: hasher)
        let superblock = VeritySuperblock(
            uuid: VeritySuperblock.uuid(forSalt: salt), dataBlocks: geometry.dataBlocks, salt: salt)
        try file.write(superblock.encoded() + [UInt8](repeating: 0, count: block - VeritySuperblock.size),
                       count: block, at: hashOffset)
        return VerityInfo(
            rootHash: Verity.hex(root.prefix(Verity.digestSize)), salt: Verity.hex(salt), hashOffset: hashOffset,
            dataBlocks: geometry.dataBlocks)
    }

    /// SHA-256(salt ‖ block) of the first `count` blocks of `data`, packed into `hashes`, whose
    /// last partly filled hash block is zeroed past the last hash.
    private func hashBlocks(_ data: [UInt8], count: Int, into hashes: inout [UInt8], hasher: SHA256) {
        data.withUnsafeBytes { Verity.hashBlocks($0, count: count, salt: salt, into: &hashes, hasher: hasher) }
        Self.zeroTail(of: &hashes, after: count)
    }

    /// Zeroes `hashes` from hash `count` to the end of its hash block.
    private static func zeroTail(of hashes: inout [UInt8], after count: Int) {
        let used = ((count + Verity.hashesPerBlock - 1) / Verity.hashesPerBlock) * Verity.hashesPerBlock
        hashes.withUnsafeMutableBytes { output in
            _ = UnsafeMutableRawBufferPointer(rebasing: output[(count * Verity.digestSize)..<(used * Verity.digestSize)])
                .initializeMemory(as: UInt8.self, repeating: 0)
        }
    }
}

/// The disk file, opened read-write for the tree; closed in `deinit`.
private final class VerityFile {
    let path: String
    let descriptor: Int32

    init(path: String) throws(DiskError) {
        self.path = path
        descriptor = open(path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
    }

    deinit { close(descriptor) }

    func size() throws(DiskError) -> UInt64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .io(path: path, operation: "fstat", errno: errno) }
        return UInt64(info.st_size)
    }

    func truncate(to size: UInt64) throws(DiskError) {
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw .io(path: path, operation: "ftruncate", errno: errno) }
    }

    /// Reads exactly `count` bytes at `offset`; the file was sized first, so a short read is EIO.
    func read(into buffer: inout [UInt8], count: Int, at offset: UInt64) throws(DiskError) {
        var done = 0
        while done < count {
            let result = buffer.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress.map { $0 + done }, count - done, off_t(offset) + off_t(done))
            }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { throw .io(path: path, operation: "read", errno: result == 0 ? EIO : errno) }
            done += result
        }
    }

    func write(_ buffer: [UInt8], count: Int, at offset: UInt64) throws(DiskError) {
        try PositionedWrite.all(buffer, count: count, to: descriptor, at: Int64(offset), path: path)
    }
}
