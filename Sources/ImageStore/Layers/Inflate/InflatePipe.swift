import Foundation
import Synchronization

/// A ``LayerStream`` run on a thread of its own, handing full buffers to the reader's thread.
///
/// Reading a layer has two halves that each keep a core busy: inflating (isa-l or libzstd,
/// and SHA-256 of the blob when it is checked) and hashing, parsing and applying the tar
/// (SHA-256 of the diff_id, libarchive and whatever consumes the entries). The pipe runs the
/// first half on its own thread, up to ``slots`` buffers ahead:
///
/// ```
/// inflate thread:  LayerStream.read(into: a free slot) ─▶ filled queue ─┐
/// reader thread:   libarchive read callback ◀─ next() ◀─────────────────┘
///                  (the slot handed out last goes back to the free list on the next call)
/// ```
///
/// Order is kept and a failure travels as the queue's last item, so the reader sees exactly
/// the bytes before it and then the failure: the same sequence as reading the ``LayerStream``
/// directly. A pipe dropped before the end (its consumer failed) tells the thread to stop; the
/// thread and the pipe share the buffers, which go when both are done with them.
final class InflatePipe: TarChunkSource {
    /// How far ahead the inflate thread may run, and each buffer's size.
    static let slots = 8
    static let slotSize = 1 << 20

    private let channel: Channel
    /// The slot handed out last, freed on the next call.
    private var handedOut: Int?
    /// Set once the end or a failure was taken from the queue.
    private var outcome: LayerReadFailure??
    /// The stream's digests, set at its end.
    private(set) var digests = LayerDigests()
    /// The diff_id the tar must have; hashed here, on the reader's thread (the stream was made
    /// with `hashesTar: false`), so inflating and hashing do not queue on one core.
    private let expectedDiffID: Digest?
    private let tarHasher = SHA256()

    /// Starts inflating `stream` (made with `hashesTar: false`) on a new thread; the stream is
    /// not to be used by the caller after. The tar is hashed here and checked against
    /// `diffID` at its end.
    init(stream: LayerStream, diffID: Digest?) {
        expectedDiffID = diffID
        channel = Channel()
        let transfer = StreamTransfer(stream: stream)
        let thread = Thread { [channel] in channel.produce(transfer.stream) }
        thread.name = "inflate"
        thread.start()
    }

    deinit { channel.stop() }

    var compressedBytesRead: Int64 { channel.consumedCompressed.load(ordering: .relaxed) }

    var compression: LayerCompression? { channel.compression }

    func next() throws(LayerReadFailure) -> UnsafeRawBufferPointer {
        if let outcome {
            if let failure = outcome { throw failure }
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        let item = channel.take(returning: handedOut)
        handedOut = nil
        switch item {
        case .bytes(let slot, let count, let compressed):
            handedOut = slot
            channel.consumedCompressed.store(compressed, ordering: .relaxed)
            let bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(channel.buffers[slot])[0..<count])
            tarHasher.update(bytes)
            return bytes
        case .end(let compressed, let digests):
            channel.consumedCompressed.store(compressed, ordering: .relaxed)
            let tar = tarHasher.finalize()
            self.digests = LayerDigests(blob: digests.blob, diffID: tar)
            if let want = expectedDiffID, want != tar {
                let failure = LayerReadFailure.diffIDMismatch(expected: want, actual: tar)
                outcome = .some(failure)
                throw failure
            }
            outcome = .some(nil)
            return UnsafeRawBufferPointer(start: nil, count: 0)
        case .failure(let failure):
            outcome = .some(failure)
            throw failure
        }
    }

    /// Moves the stream to the inflate thread, which alone uses it from then on.
    private struct StreamTransfer: @unchecked Sendable {
        let stream: LayerStream
    }

    private enum Item {
        case bytes(slot: Int, count: Int, compressedBytes: Int64)
        case end(compressedBytes: Int64, digests: LayerDigests)
        case failure(LayerReadFailure)
    }

    /// The buffers and the queue between the two threads.
    ///
    /// `@unchecked Sendable`: `state` is guarded by `condition`; a buffer is written by the
    /// inflate thread only while it is on no list (taken from `free`), and read by the reader
    /// only while handed out (taken from `filled`).
    private final class Channel: @unchecked Sendable {
        struct State {
            var free: [Int] = Array(0..<InflatePipe.slots)
            var filled: [Item] = []
            var stopping = false
            var compression: LayerCompression?
        }

        let buffers: [UnsafeMutableRawBufferPointer]
        let consumedCompressed = Atomic<Int64>(0)
        private let condition = NSCondition()
        private var state = State()

        init() {
            buffers = (0..<InflatePipe.slots).map { _ in .allocate(byteCount: InflatePipe.slotSize, alignment: 64) }
        }

        deinit { for buffer in buffers { buffer.deallocate() } }

        var compression: LayerCompression? {
            condition.lock()
            defer { condition.unlock() }
            return state.compression
        }

        /// Frees `slot` (if any) and waits for the next item.
        func take(returning slot: Int?) -> Item {
            condition.lock()
            defer { condition.unlock() }
            if let slot {
                state.free.append(slot)
                condition.broadcast()
            }
            while state.filled.isEmpty { condition.wait() }
            return state.filled.removeFirst()
        }

        func stop() {
            condition.lock()
            state.stopping = true
            condition.broadcast()
            condition.unlock()
        }

        /// The inflate thread: fill free slots until the end, a failure, or ``stop()``.
        func produce(_ stream: LayerStream) {
            while true {
                condition.lock()
                while state.free.isEmpty && !state.stopping { condition.wait() }
                if state.stopping {
                    condition.unlock()
                    return
                }
                let slot = state.free.removeFirst()
                condition.unlock()
                let item: Item
                do throws(LayerReadFailure) {
                    let count = try stream.read(into: buffers[slot])
                    item = count > 0
                        ? .bytes(slot: slot, count: count, compressedBytes: stream.compressedBytesRead)
                        : .end(compressedBytes: stream.compressedBytesRead, digests: stream.digests)
                } catch {
                    item = .failure(error)
                }
                condition.lock()
                state.compression = stream.compression
                state.filled.append(item)
                condition.broadcast()
                condition.unlock()
                guard case .bytes = item else { return }
            }
        }
    }
}
