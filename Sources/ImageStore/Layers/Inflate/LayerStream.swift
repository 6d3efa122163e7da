import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The uncompressed tar bytes of one layer blob file, inflated and hashed on the way.
///
/// Reads the file in ``inputSize`` blocks, chooses the compression from the media type and the
/// first bytes (``LayerCompression/choose(mediaType:head:)``), inflates into an output buffer and
/// hands it out with ``next()``. Both digests are computed as the bytes pass (the compressed one
/// only when it is to be checked), so checking them costs no second pass; when the input ends
/// the inflater must be at the end of a member or frame and each expected digest must match.
///
/// ```
/// file ──read──▶ [input 256 KiB] ──SHA-256 (blob)──▶ inflater ──▶ [output 1 MiB] ──SHA-256 (diff_id)──▶ next()
/// ```
///
/// Not thread-safe: one stream is read by one thread (``InflatePipe`` runs it on its own).
final class LayerStream {
    static let inputSize = 256 << 10
    static let outputSize = 1 << 20

    private let descriptor: Int32
    private let path: String
    /// The blob while it downloads: reads past its written end wait for more.
    private let follow: BlobFollow?
    private let expected: LayerDigests
    private let blobHasher: SHA256?
    /// `nil` when the reader of the bytes hashes them (``InflatePipe``, on its thread).
    private let tarHasher: SHA256?
    private var inflater: (any Inflater)?
    private let mediaCompression: LayerCompression?
    private let input: UnsafeMutableRawBufferPointer
    private let output: UnsafeMutableRawBufferPointer
    /// The unconsumed part of ``input``.
    private var pending = 0..<0
    private var endOfFile = false
    private var finished = false

    /// Bytes read from the file so far.
    private(set) var compressedBytesRead: Int64 = 0
    /// Uncompressed bytes handed out so far.
    private(set) var uncompressedBytes: Int64 = 0
    /// The compression chosen, once the first bytes are read.
    private(set) var compression: LayerCompression?

    /// Opens `file`.
    ///
    /// - Parameters:
    ///   - mediaType: the layer descriptor's media type, or `nil` to decide by content alone.
    ///   - expected: digests to check at the end of the stream.
    ///   - follow: the blob while it downloads (`file` is then only named in messages).
    ///   - hashesTar: compute (and check) the diff_id here; `false` when the consumer does
    ///     (``InflatePipe`` hashes on the reader's thread, so the two threads share the work).
    /// - Throws: ``LayerReadFailure`` `.unreadable` when the file cannot be opened.
    init(
        file: URL, mediaType: String?, expected: LayerDigests, follow: BlobFollow? = nil, hashesTar: Bool = true
    ) throws(LayerReadFailure) {
        path = file.path
        let descriptor = follow?.duplicateDescriptor() ?? Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            throw LayerReadFailure(.unreadable(errno: code), operation: path, message: String(cString: strerror(code)))
        }
        self.descriptor = descriptor
        self.follow = follow
        self.expected = expected
        mediaCompression = mediaType.flatMap(MediaType.layerCompression)
        blobHasher = expected.blob == nil ? nil : SHA256()
        tarHasher = hashesTar ? SHA256() : nil
        input = .allocate(byteCount: LayerStream.inputSize, alignment: 64)
        output = .allocate(byteCount: LayerStream.outputSize, alignment: 64)
    }

    deinit {
        Glibc.close(descriptor)
        input.deallocate()
        output.deallocate()
    }

    /// The digests computed so far (final once ``next()`` returned an empty buffer).
    private(set) var digests = LayerDigests()

    /// The next uncompressed bytes, valid until the next call; empty at the end of the stream,
    /// after the inflater finished cleanly and the expected digests matched.
    ///
    /// - Throws: ``LayerReadFailure``: `.unreadable` (read error), `.corrupt` (compression
    ///   errors, truncation, trailing garbage), `.digestMismatch`.
    func next() throws(LayerReadFailure) -> UnsafeRawBufferPointer {
        let count = try read(into: output)
        return UnsafeRawBufferPointer(start: count > 0 ? output.baseAddress : nil, count: count)
    }

    /// Inflates the next bytes into `buffer`, as ``next()`` does into its own.
    ///
    /// - Returns: the bytes written; 0 only at the end of the stream, once checked.
    /// - Throws: as ``next()``.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(LayerReadFailure) -> Int {
        if finished { return 0 }
        while true {
            if pending.isEmpty && !endOfFile { try refill() }
            let inflater: any Inflater
            if let existing = self.inflater { inflater = existing } else { inflater = try start() }
            let slice = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(input)[pending])
            let (consumed, produced) = try inflater.inflate(slice, into: buffer)
            pending = pending.lowerBound + consumed..<pending.upperBound
            if produced > 0 {
                tarHasher?.update(UnsafeRawBufferPointer(start: buffer.baseAddress, count: produced))
                uncompressedBytes += Int64(produced)
                return produced
            }
            if consumed > 0 { continue }
            // Input left that the inflater takes none of, with room for output: never loop on it.
            if !pending.isEmpty {
                throw .corrupt("inflate", "the decompressor stopped taking input \(pending.count) bytes before the end")
            }
            if endOfFile {
                try inflater.finish()
                try complete()
                return 0
            }
        }
    }

    /// Reads and hashes everything that is left, then checks the end as ``next()`` does.
    func drain() throws(LayerReadFailure) {
        while try !next().isEmpty {}
    }

    private func start() throws(LayerReadFailure) -> any Inflater {
        let head = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(input)[pending])
        let chosen = LayerCompression.choose(mediaType: mediaCompression, head: head)
        compression = chosen
        let made = chosen.makeInflater()
        inflater = made
        return made
    }

    private func refill() throws(LayerReadFailure) {
        while true {
            let count = Glibc.read(descriptor, input.baseAddress, input.count)
            if count < 0 {
                if errno == EINTR { continue }
                let code = errno
                throw LayerReadFailure(.unreadable(errno: code), operation: path, message: String(cString: strerror(code)))
            }
            pending = 0..<count
            if count == 0, let follow {
                switch follow.wait(beyond: compressedBytesRead) {
                case .available: continue
                case .end(let size) where size > compressedBytesRead: continue
                case .end: break
                case .failed:
                    throw LayerReadFailure(
                        .downloadVoided(afterBytes: compressedBytesRead), operation: "follow download",
                        message: "the download stopped or started over after \(compressedBytesRead) bytes")
                }
            }
            if count == 0 {
                endOfFile = true
            } else {
                compressedBytesRead += Int64(count)
                blobHasher?.update(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(input)[pending]))
            }
            return
        }
    }

    private func complete() throws(LayerReadFailure) {
        finished = true
        let tar = tarHasher?.finalize()
        let blob = blobHasher?.finalize()
        digests = LayerDigests(blob: blob, diffID: tar)
        if let want = expected.blob, let blob, want != blob {
            throw LayerReadFailure(
                .digestMismatch(what: "blob digest", expected: want, actual: blob), operation: "verify blob",
                message: "the blob's digest is \(blob), the manifest says \(want)")
        }
        if let want = expected.diffID, let tar, want != tar {
            throw LayerReadFailure.diffIDMismatch(expected: want, actual: tar)
        }
    }
}
