import CArchive
import Foundation

/// Reads the entries of one tar stream (uncompressed, gzip or zstd) from a layer blob.
///
/// The only file that imports CArchive. libarchive parses the tar only (tar and GNU tar
/// formats, no libarchive filter): the bytes come through a read callback from a
/// ``TarChunkSource``, which inflates with isa-l (gzip) or libzstd (zstd) and computes the
/// blob digest and the diff_id on the way.
///
/// ```
/// blob file ─▶ LayerStream (read, SHA-256, inflate, SHA-256) ─▶ read callback ─▶ libarchive (tar) ─▶ next() / readData
/// ```
///
/// What is refused, and how (each becomes a ``LayerError`` through
/// ``LayerReadFailure/layerError(layer:path:)``):
/// - a header libarchive warns about (`ARCHIVE_WARN`: malformed pax records, several pax
///   headers for one entry, a negative size): `.malformedHeader`, with the warning and the
///   entry name; a warning that a name is not UTF-8 is not a defect and is accepted (the
///   name's bytes are kept as written);
/// - a stream that is not a tar: `.notATar`, saying what it looks like;
/// - truncation or corruption of the tar or its compression: `.corrupt`;
/// - after the last entry the rest of the stream is read to its end (trailing bytes count in
///   the diff_id) and the digests are checked: `.digestMismatch`.
/// An empty stream (0 bytes, or an empty gzip or zstd stream) is an empty layer.
///
/// Not thread-safe; one reader is used by one blocking job.
final class ArchiveReader {
    /// A failure of the reader or the stream under it.
    typealias Failure = LayerReadFailure

    /// How much of the stream's start is kept to say what a non-tar stream looks like.
    private static let headSize = 64 << 10

    private let handle: OpaquePointer
    private let context: CallbackContext
    /// The first uncompressed bytes, for ``notATar(_:)``.
    private let head: [UInt8]
    /// `true` when the uncompressed stream has no bytes at all.
    private let isEmpty: Bool
    private var ended = false
    private var entriesRead = 0
    /// The entry last returned by ``next()``, for messages.
    private var currentPath = ""

    /// Opens the layer blob `file`.
    ///
    /// - Parameters:
    ///   - mediaType: the layer descriptor's media type: chooses the compression, unless the
    ///     first bytes show another (``LayerCompression/choose(mediaType:head:)``); `nil`
    ///     decides by content.
    ///   - expected: digests to check at the end of the stream.
    ///   - follow: the blob while it downloads: reads wait for its bytes (``BlobFollow``).
    ///   - threaded: inflate on a thread of its own (``InflatePipe``), so that inflating and
    ///     applying keep two cores busy; `false` inflates on the caller's thread.
    /// - Throws: ``Failure`` when the file cannot be opened or its first bytes cannot be inflated.
    convenience init(
        file: URL, mediaType: String? = nil, expected: LayerDigests = LayerDigests(), threaded: Bool = true,
        follow: BlobFollow? = nil
    ) throws(Failure) {
        let stream = try LayerStream(
            file: file, mediaType: mediaType, expected: expected, follow: follow, hashesTar: !threaded)
        try self.init(source: threaded ? InflatePipe(stream: stream, diffID: expected.diffID) : stream)
    }

    /// Reads the tar that `source` yields.
    ///
    /// - Throws: ``Failure`` when the first bytes cannot be produced or libarchive cannot be set up.
    init(source: any TarChunkSource) throws(Failure) {
        let first = try source.next()
        head = Array(UnsafeRawBufferPointer(rebasing: first.prefix(ArchiveReader.headSize)))
        isEmpty = first.isEmpty
        context = CallbackContext(source: source, first: first)
        guard let handle = archive_read_new() else {
            throw .corrupt("archive_read_new", "libarchive could not allocate a reader (out of memory)")
        }
        self.handle = handle
        if isEmpty { return }
        try check(archive_read_support_format_tar(handle), "enable tar")
        try check(archive_read_support_format_gnutar(handle), "enable gnutar")
        // The context outlives the handle: both are freed with this reader.
        let status = archive_read_open(
            handle, Unmanaged.passUnretained(context).toOpaque(), nil,
            { archive, clientData, buffer in
                guard let clientData, let buffer else { return -1 }
                let context = Unmanaged<CallbackContext>.fromOpaque(clientData).takeUnretainedValue()
                do throws(LayerReadFailure) {
                    let chunk = try context.nextChunk()
                    buffer.pointee = chunk.baseAddress
                    return la_ssize_t(chunk.count)
                } catch {
                    context.failure = error
                    carchive_set_error(archive, -1, error.message)
                    return -1
                }
            }, nil)
        // libarchive chooses the format when it opens: a stream no format bids for fails here.
        if let failure = context.failure { throw failure }
        if status != ARCHIVE_OK {
            let message = sentence(status)
            if message == ArchiveReader.unrecognized {
                throw Failure(.notATar(looksLike: notATar()), operation: "open", message: message)
            }
            throw .corrupt("open", message)
        }
    }

    deinit {
        archive_read_free(handle)
    }

    /// The next entry header, or `nil` at the end of the archive.
    ///
    /// At the end the rest of the stream is read and the digests checked, so a `nil` means the
    /// whole layer was read and is what the image says it is.
    /// - Throws: ``Failure``: `.malformedHeader`, `.notATar`, `.corrupt`, `.digestMismatch`, `.unreadable`.
    func next() throws(Failure) -> ArchiveEntry? {
        if ended { return nil }
        if isEmpty {
            ended = true
            return nil
        }
        var entryPointer: OpaquePointer?
        let status = archive_read_next_header(handle, &entryPointer)
        if let failure = context.failure { throw failure }
        if status == ARCHIVE_EOF {
            ended = true
            try context.drain()
            return nil
        }
        if status == ARCHIVE_OK || status == ARCHIVE_WARN, let pointer = entryPointer {
            let entry = ArchiveReader.convert(pointer)
            currentPath = entry.displayPath
            entriesRead += 1
            if status == ARCHIVE_WARN, let warning = errorString, !ArchiveReader.isNameEncodingWarning(warning) {
                throw Failure(.malformedHeader(path: entry.displayPath), operation: "read header", message: warning)
            }
            return entry
        }
        let message = sentence(status)
        // The entry is cleared before each header, so a name in it is the failing header's.
        let failing = entryPointer.map(ArchiveReader.convert).map(\.displayPath).flatMap { $0.isEmpty ? nil : $0 }
        if ArchiveReader.headerDefects.contains(where: message.contains) {
            let path = failing ?? (currentPath.isEmpty ? "(unnamed, first)" : "(unnamed, after \(currentPath))")
            throw Failure(.malformedHeader(path: path), operation: "read header", message: message)
        }
        throw .corrupt("read header", failing.map { "entry \"\($0)\": \(message)" } ?? message)
    }

    /// What libarchive's choose_format() says when no format bids: the stream is not a tar (a
    /// damaged or truncated tar is chosen as tar and fails later, with other messages).
    private static let unrecognized = "Unrecognized archive format"

    /// Header errors libarchive reports as fatal that are defects of the header, like its
    /// warnings, rather than of the stream: an entry size that is negative or overflows.
    private static let headerDefects = ["negative size", "size attribute is negative", "size overflow"]

    /// Bytes read from the blob file so far (compressed bytes for gzip and zstd): how far
    /// through the layer blob the reader is.
    var fileBytesRead: Int64 { context.source.compressedBytesRead }

    /// The digests computed on the way (the diff_id; the blob digest when it was to be
    /// checked); final once ``next()`` returned `nil`.
    var digests: LayerDigests { context.source.digests }

    /// Passes each data block of the current entry to `body` with its offset in the file.
    ///
    /// Blocks arrive in increasing offset order; gaps between them are holes of a sparse file.
    /// - Throws: ``Failure`` for a truncated or corrupt entry (or one libarchive warns about),
    ///   or what `body` throws.
    func readData(_ body: (_ offset: Int64, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            var buffer: UnsafeRawPointer?
            var size = 0
            var offset: la_int64_t = 0
            let status = archive_read_data_block(handle, &buffer, &size, &offset)
            if let failure = context.failure { throw failure }
            if status == ARCHIVE_EOF { return }
            if status == ARCHIVE_WARN {
                throw Failure(
                    .malformedHeader(path: currentPath), operation: "read data", message: errorString ?? sentence(status))
            }
            guard status == ARCHIVE_OK else { throw Failure.corrupt("read data", sentence(status)) }
            if size > 0, let buffer {
                try body(Int64(offset), UnsafeRawBufferPointer(start: buffer, count: size))
            }
        }
    }

    // MARK: - Messages

    private var errorString: String? { archive_error_string(handle).map { String(cString: $0) } }

    /// libarchive's message, or a sentence for a bare status code.
    private func sentence(_ status: CInt) -> String {
        if let message = errorString, !message.isEmpty { return message }
        switch status {
        case ARCHIVE_FATAL: return "libarchive stopped reading the tar stream and gave no reason (status ARCHIVE_FATAL)"
        case ARCHIVE_FAILED: return "libarchive could not read this entry and gave no reason (status ARCHIVE_FAILED)"
        case ARCHIVE_RETRY: return "libarchive asked to retry a read that cannot be retried (status ARCHIVE_RETRY)"
        case ARCHIVE_WARN: return "libarchive warned about the entry and gave no reason (status ARCHIVE_WARN)"
        default: return "libarchive returned the unknown status \(status) and gave no reason"
        }
    }

    /// `ARCHIVE_WARN` for a name that is not valid in the current locale's charset. Go's
    /// archive/tar and GNU tar take such names as bytes, so do we; any other warning is a defect.
    private static func isNameEncodingWarning(_ message: String) -> Bool {
        message.contains("can't be converted from")
    }

    /// What a stream that is not a tar looks like: what libarchive (with every format and
    /// filter enabled) reads its first bytes as, else a guess from the bytes themselves.
    private func notATar() -> String {
        let hex = head.prefix(8).map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
        let decompressed = context.source.compression.flatMap { $0 == .none ? nil : "after \($0.rawValue) decompression, " } ?? ""
        let what = ArchiveReader.probe(head) ?? ArchiveReader.guess(head)
        return "\(decompressed)\(what) (\(head.count < ArchiveReader.headSize ? "\(head.count) bytes" : "first bytes"): \(hex))"
    }

    /// libarchive's name for the format (and filters) of `bytes`, or `nil` when it knows none.
    private static func probe(_ bytes: [UInt8]) -> String? {
        guard let probe = archive_read_new() else { return nil }
        defer { archive_read_free(probe) }
        archive_read_support_format_all(probe)
        archive_read_support_filter_all(probe)
        return bytes.withUnsafeBytes { buffer -> String? in
            guard archive_read_open_memory(probe, buffer.baseAddress, buffer.count) == ARCHIVE_OK else { return nil }
            var entry: OpaquePointer?
            let status = archive_read_next_header(probe, &entry)
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let format = archive_format_name(probe) else { return nil }
            let filters = (0..<max(0, archive_filter_count(probe) - 1)).compactMap { index in
                archive_filter_name(probe, index).map { String(cString: $0) }
            }
            let inside = filters.isEmpty ? "" : " inside \(filters.joined(separator: " inside "))"
            return "libarchive reads it as \(String(cString: format))\(inside)"
        }
    }

    /// A guess from the first bytes when libarchive knows no format for them.
    private static func guess(_ bytes: [UInt8]) -> String {
        if bytes.count < 512 { return "a stream too short for a tar header (512 bytes)" }
        if bytes.starts(with: [0x7F, 0x45, 0x4C, 0x46]) { return "an ELF executable" }
        if bytes.withUnsafeBytes({ LayerCompression.sniff($0) }) != nil {
            return "compressed data (a layer compressed twice)"
        }
        let sample = bytes.prefix(512)
        let isText = sample.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 || $0 >= 0x80 }
        if isText, let first = sample.first {
            let kind = first == UInt8(ascii: "{") || first == UInt8(ascii: "[") ? "JSON-like text"
                : first == UInt8(ascii: "<") ? "HTML or XML text" : "text"
            let line = SafeText.escaping(String(decoding: sample.prefix(40), as: UTF8.self))
            return "\(kind) starting \"\(line)\""
        }
        return "binary data in no format libarchive knows"
    }

    // MARK: - Callback

    /// What the read callback reaches through libarchive's client-data pointer.
    private final class CallbackContext {
        let source: any TarChunkSource
        /// The chunk read in `init`, handed to libarchive on its first read.
        var first: UnsafeRawBufferPointer?
        /// The source's failure, kept so the caller gets it instead of libarchive's echo of it.
        var failure: LayerReadFailure?

        init(source: any TarChunkSource, first: UnsafeRawBufferPointer) {
            self.source = source
            self.first = first
        }

        func nextChunk() throws(LayerReadFailure) -> UnsafeRawBufferPointer {
            if let first {
                self.first = nil
                return first
            }
            return try source.next()
        }

        /// Reads the stream to its end: the bytes after the tar's end count in the diff_id,
        /// and the end is where the digests are checked.
        func drain() throws(LayerReadFailure) {
            if failure != nil { return }
            first = nil
            while try !source.next().isEmpty {}
        }
    }

    /// Accepts `ARCHIVE_OK`; anything else becomes a ``Failure``.
    private func check(_ status: CInt, _ operation: String) throws(Failure) {
        if let failure = context.failure { throw failure }
        if status == ARCHIVE_OK { return }
        throw .corrupt(operation, sentence(status))
    }

    // MARK: - Entries

    private static func convert(_ entry: OpaquePointer) -> ArchiveEntry {
        let path = bytes(archive_entry_pathname(entry)) ?? bytes(archive_entry_pathname_utf8(entry)) ?? []
        let hardlink = bytes(archive_entry_hardlink(entry)) ?? bytes(archive_entry_hardlink_utf8(entry))
        let symlink = bytes(archive_entry_symlink(entry)) ?? bytes(archive_entry_symlink_utf8(entry))
        let kind: ArchiveEntry.Kind
        if hardlink != nil {
            kind = .hardlink
        } else {
            // AE_IF* are casts in archive_entry.h and do not import; the values are POSIX's.
            switch UInt32(archive_entry_filetype(entry)) {
            case 0o100000: kind = .regular
            case 0o040000: kind = .directory
            case 0o120000: kind = .symlink
            case 0o010000: kind = .fifo
            case 0o020000: kind = .characterDevice
            case 0o060000: kind = .blockDevice
            case 0o140000: kind = .socket
            case let other: kind = .unknown(other)
            }
        }
        var xattrs: [(name: String, value: [UInt8])] = []
        if archive_entry_xattr_reset(entry) > 0 {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK {
                guard let name else { continue }
                let data = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                xattrs.append((String(cString: name), data))
            }
        }
        let mtime = ArchiveReader.mtime(seconds: Int64(archive_entry_mtime(entry)), nanoseconds: Int64(archive_entry_mtime_nsec(entry)))
        return ArchiveEntry(
            path: path,
            kind: kind,
            permissions: UInt32(archive_entry_perm(entry)) & 0o7777,
            uid: Int64(archive_entry_uid(entry)),
            gid: Int64(archive_entry_gid(entry)),
            size: archive_entry_size_is_set(entry) != 0 ? Int64(archive_entry_size(entry)) : 0,
            mtimeSeconds: mtime.seconds,
            mtimeNanoseconds: mtime.nanoseconds,
            symlinkTarget: kind == .symlink ? (symlink ?? []) : nil,
            hardlinkTarget: hardlink,
            rdev: UInt64(archive_entry_rdev(entry)),
            rdevMajor: UInt32(truncatingIfNeeded: archive_entry_rdevmajor(entry)),
            rdevMinor: UInt32(truncatingIfNeeded: archive_entry_rdevminor(entry)),
            xattrs: xattrs)
    }

    /// The mtime libarchive 3.6.2 reports, corrected for its pax parser: a pax `mtime` of
    /// `-31536000.25` comes back as seconds -31536000 and nanoseconds +250,000,000 (the fraction
    /// keeps its sign), where GNU tar and Go's archive/tar read -31536000.25 s, that is
    /// -31536001 s + 750,000,000 ns. Only pax carries a fraction in a tar, so a negative time
    /// with a positive fraction is always that case. (A time between -1 and 0 s loses its sign
    /// inside libarchive and cannot be told apart.)
    static func mtime(seconds: Int64, nanoseconds: Int64) -> (seconds: Int64, nanoseconds: Int64) {
        guard seconds < 0, nanoseconds > 0 else { return (seconds, nanoseconds) }
        return (seconds - 1, 1_000_000_000 - nanoseconds)
    }

    private static func bytes(_ text: UnsafePointer<CChar>?) -> [UInt8]? {
        guard let text else { return nil }
        return Array(UnsafeRawBufferPointer(start: text, count: strlen(text)))
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
