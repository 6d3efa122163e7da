import Foundation

/// Compression of file data into erofs physical clusters of one block (pclusters), each the
/// head of one extent: an LZ4 block right-aligned in its 4 KiB (zero padding before it) that
/// decodes to more than 4 KiB, or a plain block holding up to 4 KiB as is. Extents never cross
/// a 128 KiB segment boundary, so segments compress independently, on every core.
enum EROFSPcluster {
    /// Bytes compressed as one unit.
    static let segmentSize = 128 << 10

    /// One extent as the index will describe it.
    struct Extent: Equatable {
        /// Logical bytes covered, from the end of the previous extent.
        var length: UInt32
        /// A plain (uncompressed) pcluster rather than LZ4.
        var plain: Bool
        var block: UInt32
    }

    /// An extent with its block's bytes, before a block number is known.
    struct Piece {
        var length: Int
        var plain: Bool
        var bytes: [UInt8]
    }

    /// The pieces of one segment. A segment that fast LZ4 cannot shrink below 31/32 is stored
    /// plain at once (incompressible data costs one fast pass, not LZ4HC's search).
    static func compress(_ segment: UnsafeRawBufferPointer, lz4: EROFSLZ4) -> [Piece] {
        let blockSize = EROFSGeometry.blockSize
        var pieces: [Piece] = []
        pieces.reserveCapacity(segment.count / blockSize + 1)
        let incompressible = lz4.quickSize(segment) * 32 >= segment.count * 31
        var position = 0
        var block = [UInt8](repeating: 0, count: blockSize)
        while position < segment.count {
            let left = segment.count - position
            if !incompressible && left > blockSize {
                let consumed = lz4.fill(&block, from: UnsafeRawBufferPointer(rebasing: segment[position...]))
                if consumed > blockSize {
                    pieces.append(Piece(length: consumed, plain: false, bytes: block))
                    position += consumed
                    continue
                }
            }
            let length = min(left, blockSize)
            var plain = [UInt8](repeating: 0, count: blockSize)
            plain.replaceSubrange(0..<length, with: segment[position..<(position + length)])
            pieces.append(Piece(length: length, plain: true, bytes: plain))
            position += length
        }
        return pieces
    }

    /// The pieces of every segment of `bytes` (which starts at a segment boundary of the file),
    /// in order, compressed on all cores.
    static func compressSegments(_ bytes: [UInt8], level: Int?) -> [Piece] {
        let count = (bytes.count + segmentSize - 1) / segmentSize
        let results = EROFSPieceResults(count: count)
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let lz4 = EROFSLZ4(level: level)
            let range = (index * segmentSize)..<min(bytes.count, (index + 1) * segmentSize)
            let pieces = bytes.withUnsafeBytes { compress(UnsafeRawBufferPointer(rebasing: $0[range]), lz4: lz4) }
            results.set(index, pieces)
        }
        return results.joined()
    }
}

/// The per-segment results of a parallel compression. `@unchecked Sendable`: every access to
/// `slots` holds `lock`.
final class EROFSPieceResults: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [[EROFSPcluster.Piece]]

    init(count: Int) {
        slots = Array(repeating: [], count: count)
    }

    func set(_ index: Int, _ pieces: [EROFSPcluster.Piece]) {
        lock.lock()
        slots[index] = pieces
        lock.unlock()
    }

    func joined() -> [EROFSPcluster.Piece] {
        lock.lock()
        defer { lock.unlock() }
        return Array(slots.joined())
    }
}
