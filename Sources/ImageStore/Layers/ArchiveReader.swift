import CArchive
import Foundation

/// Reads the entries of one tar stream (uncompressed, gzip or zstd) from a file.
///
/// The only file that imports CArchive: it owns the `struct archive *`, frees it in `deinit`,
/// checks every return code through ``check(_:_:)`` (which keeps `archive_error_string`) and
/// hands out plain Swift values. Not thread-safe; one reader is used by one blocking job.
final class ArchiveReader {
    /// A libarchive failure with the library's own message.
    struct Failure: Error, Sendable {
        let operation: String
        let message: String
    }

    /// libarchive reads the file in blocks of this size.
    private static let blockSize = 1 << 20

    private let handle: OpaquePointer

    /// Opens `file` for reading; gzip, zstd and uncompressed tar (ustar, pax, GNU) are accepted.
    ///
    /// - Throws: ``Failure`` when libarchive cannot be set up or the file cannot be opened.
    init(file: URL) throws(Failure) {
        guard let handle = archive_read_new() else {
            throw Failure(operation: "archive_read_new", message: "out of memory")
        }
        self.handle = handle
        try check(archive_read_support_filter_gzip(handle), "enable gzip")
        try check(archive_read_support_filter_zstd(handle), "enable zstd")
        try check(archive_read_support_filter_none(handle), "enable uncompressed")
        try check(archive_read_support_format_tar(handle), "enable tar")
        try check(archive_read_support_format_gnutar(handle), "enable gnutar")
        try check(archive_read_open_filename(handle, file.path, ArchiveReader.blockSize), "open")
    }

    deinit {
        archive_read_free(handle)
    }

    /// The next entry header, or `nil` at the end of the archive.
    ///
    /// - Throws: ``Failure`` for a truncated or corrupt archive.
    func next() throws(Failure) -> ArchiveEntry? {
        var entryPointer: OpaquePointer?
        let status = archive_read_next_header(handle, &entryPointer)
        if status == ARCHIVE_EOF { return nil }
        try check(status, "read header")
        guard let entry = entryPointer else {
            throw Failure(operation: "read header", message: "libarchive returned no entry")
        }
        return ArchiveReader.convert(entry)
    }

    /// Bytes read from the file so far (compressed bytes for gzip and zstd), in steps of the
    /// read block size: how far through the layer blob the reader is.
    var fileBytesRead: Int64 { Int64(archive_filter_bytes(handle, -1)) }

    /// Passes each data block of the current entry to `body` with its offset in the file.
    ///
    /// Blocks arrive in increasing offset order; gaps between them are holes of a sparse file.
    /// - Throws: ``Failure`` for a truncated or corrupt entry, or what `body` throws.
    func readData(_ body: (_ offset: Int64, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            var buffer: UnsafeRawPointer?
            var size = 0
            var offset: la_int64_t = 0
            let status = archive_read_data_block(handle, &buffer, &size, &offset)
            if status == ARCHIVE_EOF { return }
            try check(status, "read data")
            if size > 0, let buffer {
                try body(Int64(offset), UnsafeRawBufferPointer(start: buffer, count: size))
            }
        }
    }

    /// Accepts `ARCHIVE_OK` and `ARCHIVE_WARN`; anything else becomes a ``Failure``.
    private func check(_ status: CInt, _ operation: String) throws(Failure) {
        if status == ARCHIVE_OK || status == ARCHIVE_WARN { return }
        let message = archive_error_string(handle).map { String(cString: $0) } ?? "error \(status)"
        throw Failure(operation: operation, message: message)
    }

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
        return ArchiveEntry(
            path: path,
            kind: kind,
            permissions: UInt32(archive_entry_perm(entry)) & 0o7777,
            uid: Int64(archive_entry_uid(entry)),
            gid: Int64(archive_entry_gid(entry)),
            size: archive_entry_size_is_set(entry) != 0 ? Int64(archive_entry_size(entry)) : 0,
            mtimeSeconds: Int64(archive_entry_mtime(entry)),
            mtimeNanoseconds: Int64(archive_entry_mtime_nsec(entry)),
            symlinkTarget: kind == .symlink ? (symlink ?? []) : nil,
            hardlinkTarget: hardlink,
            rdev: UInt64(archive_entry_rdev(entry)),
            rdevMajor: UInt32(truncatingIfNeeded: archive_entry_rdevmajor(entry)),
            rdevMinor: UInt32(truncatingIfNeeded: archive_entry_rdevminor(entry)),
            xattrs: xattrs)
    }

    private static func bytes(_ text: UnsafePointer<CChar>?) -> [UInt8]? {
        guard let text else { return nil }
        return Array(UnsafeRawBufferPointer(start: text, count: strlen(text)))
    }
}
