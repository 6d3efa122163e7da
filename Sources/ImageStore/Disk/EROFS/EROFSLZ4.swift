import CLZ4

/// liblz4 for the erofs writer (the only `import CLZ4`): fills one 4 KiB physical cluster with
/// as much input as LZ4 or LZ4HC can fit (`LZ4_compress_destSize`, `LZ4_compress_HC_destSize`),
/// and measures how well a piece compresses (`LZ4_compress_default`).
///
/// One instance per thread: it owns the LZ4HC state (about 256 KiB), freed in `deinit`.
final class EROFSLZ4 {
    /// `nil` for LZ4, else the LZ4HC level.
    let level: Int32?
    private var state: [UInt8]
    private var scratch: [UInt8] = []

    init(level: Int?) {
        self.level = level.map { Int32(clamping: $0) }
        state = level == nil ? [] : [UInt8](repeating: 0, count: Int(LZ4_sizeofStateHC()))
    }

    /// Compresses the longest prefix of `source` whose LZ4 block fits `output.count` bytes into
    /// the end of `output` (the start stays zero: erofs's zero padding). Returns the bytes of
    /// `source` consumed (0 if nothing fits).
    func fill(_ output: inout [UInt8], from source: UnsafeRawBufferPointer) -> Int {
        guard let base = source.baseAddress, !source.isEmpty else { return 0 }
        let capacity = output.count
        if scratch.count < capacity { scratch = [UInt8](repeating: 0, count: capacity) }
        var consumed = Int32(clamping: source.count)
        let written: Int32 = scratch.withUnsafeMutableBytes { target in
            let destination = target.baseAddress?.assumingMemoryBound(to: CChar.self)
            let input = base.assumingMemoryBound(to: CChar.self)
            if let level {
                return state.withUnsafeMutableBytes { hc in
                    LZ4_compress_HC_destSize(hc.baseAddress, input, destination, &consumed, Int32(capacity), level)
                }
            }
            return LZ4_compress_destSize(input, destination, &consumed, Int32(capacity))
        }
        guard written > 0 else { return 0 }
        let start = capacity - Int(written)
        for index in 0..<start { output[index] = 0 }
        output.replaceSubrange(start..<capacity, with: scratch[0..<Int(written)])
        return Int(consumed)
    }

    /// The size of `source` compressed with fast LZ4: a cheap test before LZ4HC's slower work.
    func quickSize(_ source: UnsafeRawBufferPointer) -> Int {
        guard let base = source.baseAddress, !source.isEmpty else { return 0 }
        let bound = Int(LZ4_compressBound(Int32(clamping: source.count)))
        if scratch.count < bound { scratch = [UInt8](repeating: 0, count: bound) }
        let written = scratch.withUnsafeMutableBytes { target in
            LZ4_compress_default(
                base.assumingMemoryBound(to: CChar.self), target.baseAddress?.assumingMemoryBound(to: CChar.self),
                Int32(clamping: source.count), Int32(bound))
        }
        return written > 0 ? Int(written) : source.count
    }
}
