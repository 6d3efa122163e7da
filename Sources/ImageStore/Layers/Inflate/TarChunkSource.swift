/// Where ``ArchiveReader`` takes the uncompressed tar bytes from: a ``LayerStream`` read on
/// the reader's own thread, or an ``InflatePipe`` that inflates on a thread of its own.
protocol TarChunkSource: AnyObject {
    /// The next bytes of the tar, valid until the next call; empty at the end of the stream,
    /// once the inflater finished cleanly and the expected digests matched.
    ///
    /// - Throws: ``LayerReadFailure``.
    func next() throws(LayerReadFailure) -> UnsafeRawBufferPointer
    /// Bytes of the blob file read so far (compressed bytes for gzip and zstd).
    var compressedBytesRead: Int64 { get }
    /// The compression the stream is read with, once its first bytes are read.
    var compression: LayerCompression? { get }
    /// The digests computed; final once ``next()`` returned an empty buffer.
    var digests: LayerDigests { get }
}

extension LayerStream: TarChunkSource {}
