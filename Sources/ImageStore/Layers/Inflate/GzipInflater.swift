import CIsal

/// gzip decompression with isa-l's `isal_inflate` (about 3.5× zlib on this hardware).
///
/// The only file that imports CIsal. Handles multi-member streams (members concatenated, as
/// `pigz` and some layer builders write them): when a member ends and more input follows, the
/// state is reset and the next member's header is parsed; input after the last member that is
/// not a gzip member is refused, as Go's gzip reader (containerd's) refuses it. Each member's
/// CRC-32 and length are checked by isa-l (`ISAL_GZIP`). A stream of no bytes at all is an
/// empty stream; a member cut short is truncated.
final class GzipInflater: Inflater {
    /// isa-l's state is about 90 KiB, kept off the stack.
    private let state: UnsafeMutablePointer<inflate_state>
    /// Members started so far (1 while reading the first).
    private var members = 0
    /// Whether input of the current member has been consumed.
    private var inMember = false

    init() {
        state = UnsafeMutablePointer<inflate_state>.allocate(capacity: 1)
        isal_inflate_init(state)
        state.pointee.crc_flag = UInt32(ISAL_GZIP)
    }

    deinit { state.deallocate() }

    func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer)
        throws(LayerReadFailure) -> (consumed: Int, produced: Int)
    {
        if state.pointee.block_state == ISAL_BLOCK_FINISH {
            // The member is complete; only more input starts another.
            guard !input.isEmpty else { return (0, 0) }
            isal_inflate_reset(state)
            state.pointee.crc_flag = UInt32(ISAL_GZIP)
            inMember = false
        }
        if !inMember && !input.isEmpty {
            members += 1
            inMember = true
        }
        let inCount = UInt32(clamping: input.count)
        let outCount = UInt32(clamping: output.count)
        state.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        state.pointee.avail_in = inCount
        state.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        state.pointee.avail_out = outCount
        let status = isal_inflate(state)
        let consumed = Int(inCount - state.pointee.avail_in)
        let produced = Int(outCount - state.pointee.avail_out)
        state.pointee.next_in = nil
        state.pointee.next_out = nil
        guard status == ISAL_DECOMP_OK else { throw failure(status) }
        return (consumed, produced)
    }

    func finish() throws(LayerReadFailure) {
        guard inMember, state.pointee.block_state != ISAL_BLOCK_FINISH else { return }
        throw .corrupt(
            "inflate gzip",
            "the gzip stream ends inside member \(members) (the blob is truncated)")
    }

    private func failure(_ status: Int32) -> LayerReadFailure {
        let what: String
        switch status {
        case ISAL_INVALID_WRAPPER where members > 1:
            return .corrupt(
                "inflate gzip",
                "\(members - 1) gzip member(s) are followed by data that is not a gzip member (trailing garbage)")
        case ISAL_INVALID_WRAPPER: what = "the data does not start with a gzip header"
        case ISAL_UNSUPPORTED_METHOD: what = "the gzip header names a compression method other than deflate"
        case ISAL_INCORRECT_CHECKSUM: what = "the CRC-32 or length in the gzip trailer does not match the data"
        case ISAL_INVALID_BLOCK: what = "an invalid deflate block"
        case ISAL_INVALID_SYMBOL: what = "an invalid deflate symbol"
        case ISAL_INVALID_LOOKBACK: what = "a back reference before the start of the data"
        case ISAL_NEED_DICT: what = "the stream needs a preset dictionary"
        default: what = "isa-l error \(status)"
        }
        return .corrupt("inflate gzip", "gzip member \(members) is corrupt: \(what)")
    }
}
