/// One decompressor of a layer stream: gzip (isa-l), zstd (libzstd) or none.
///
/// The caller offers input and an output buffer; the inflater takes what it can of the one
/// and fills what it can of the other. At the end of the input the caller keeps calling with
/// empty input until nothing more comes out, then ``finish()`` says whether the stream ended
/// where a stream may end.
protocol Inflater: AnyObject {
    /// Decompresses from `input` into `output`.
    ///
    /// - Returns: how many bytes of `input` were consumed and of `output` were written; both
    ///   are 0 only when the inflater needs more input (or, with empty input, is done).
    /// - Throws: ``LayerReadFailure`` (`.corrupt`) for data that is not valid for the format.
    func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer)
        throws(LayerReadFailure) -> (consumed: Int, produced: Int)

    /// Called once at the end of the input.
    ///
    /// - Throws: ``LayerReadFailure`` (`.corrupt`) when the input stopped inside a member or frame.
    func finish() throws(LayerReadFailure)
}

/// The uncompressed case: input is copied to output unchanged.
final class PassThroughInflater: Inflater {
    func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer)
        throws(LayerReadFailure) -> (consumed: Int, produced: Int)
    {
        let count = min(input.count, output.count)
        guard count > 0, let source = input.baseAddress, let target = output.baseAddress else { return (0, 0) }
        target.copyMemory(from: source, byteCount: count)
        return (count, count)
    }

    func finish() throws(LayerReadFailure) {}
}

extension LayerCompression {
    /// The compression the first bytes of a blob show: gzip (`1f 8b`), zstd (a frame
    /// `28 b5 2f fd` or a skippable frame `5? 2a 4d 18`), else `nil` (uncompressed or unknown).
    static func sniff(_ head: UnsafeRawBufferPointer) -> LayerCompression? {
        if head.count >= 2, head[0] == 0x1F, head[1] == 0x8B { return .gzip }
        if head.count >= 4, head[0] == 0x28, head[1] == 0xB5, head[2] == 0x2F, head[3] == 0xFD { return .zstd }
        if head.count >= 4, head[0] & 0xF0 == 0x50, head[1] == 0x2A, head[2] == 0x4D, head[3] == 0x18 { return .zstd }
        return nil
    }

    /// The compression to read a blob with: the media type's, unless the first bytes say
    /// otherwise. containerd decides by these bytes alone (its DecompressStream), so a blob
    /// whose media type disagrees with its content is read as containerd reads it: a gzip
    /// magic is gzip, a zstd magic is zstd, and neither is an uncompressed tar. With fewer
    /// than four bytes the media type decides.
    static func choose(mediaType: LayerCompression?, head: UnsafeRawBufferPointer) -> LayerCompression {
        if let sniffed = sniff(head) { return sniffed }
        if head.count < 4 { return mediaType ?? .none }
        return .none
    }

    /// A fresh inflater for this compression.
    func makeInflater() -> any Inflater {
        switch self {
        case .none: return PassThroughInflater()
        case .gzip: return GzipInflater()
        case .zstd: return ZstdInflater()
        }
    }
}
