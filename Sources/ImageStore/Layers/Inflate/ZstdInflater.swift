import CZstd

/// zstd decompression with libzstd's streaming API (`ZSTD_decompressStream`).
///
/// The only file that imports CZstd. Concatenated frames and skippable frames are read as
/// zstd itself reads them; a stream of no bytes is empty; a stream that stops inside a frame
/// is truncated. libzstd's default window limit (2^27 bytes) bounds the memory a frame can
/// ask for: frames written with `--long=31` are refused with libzstd's message.
final class ZstdInflater: Inflater {
    private let context: OpaquePointer
    /// Whether the last call ended inside a frame (libzstd returned a non-zero hint).
    private var inFrame = false

    init() {
        // Creation fails only when out of memory, which Swift treats as fatal anyway.
        guard let context = ZSTD_createDCtx() else { preconditionFailure("ZSTD_createDCtx: out of memory") }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer)
        throws(LayerReadFailure) -> (consumed: Int, produced: Int)
    {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let hint = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
        if ZSTD_isError(hint) != 0 {
            let name = String(cString: ZSTD_getErrorName(hint))
            throw .corrupt("inflate zstd", "the zstd stream is corrupt: \(name)")
        }
        if inBuffer.pos > 0 || outBuffer.pos > 0 || !input.isEmpty { inFrame = hint != 0 }
        return (inBuffer.pos, outBuffer.pos)
    }

    func finish() throws(LayerReadFailure) {
        guard inFrame else { return }
        throw .corrupt("inflate zstd", "the zstd stream ends inside a frame (the blob is truncated)")
    }
}
