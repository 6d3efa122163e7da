import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Content-addressed blobs in an OCI image layout, shared by every image and process.
///
/// ```
/// <root>/                     DataLayout.ociLayout
///   oci-layout                {"imageLayoutVersion":"1.0.0"}
///   index.json                one entry per pulled or imported name, annotated
///                             org.opencontainers.image.ref.name = normalized reference
///   index.json.lock           flock'ed while index.json is rewritten
///   blobs/sha256/<hex>        manifests, indexes, configs, layers; verified before they appear
///   blobs/.tmp-<pid>-<uuid>   downloads in progress (same filesystem, so rename is atomic),
///                             0600 and flock'ed by their writer: recovery removes those whose
///                             lock is free (the writer died), in any PID namespace
/// ```
///
/// A blob file appears only by rename after its SHA-256 was checked and it was fsynced, so
/// whatever is under `blobs/sha256/` is complete and correct. Two processes fetching the same
/// blob both succeed: the second rename finds the blob present and drops its temp file.
public struct ContentStore: Sendable {
    /// The layout directory.
    public let root: URL

    /// Opens (and creates when needed) the layout at `layout.ociLayout`, making the data
    /// directory private first (``DataLayout/prepare()``), so every command that touches blobs
    /// (`import`, `fetch`, `inspect`) leaves no image readable by other local users.
    ///
    /// - Throws: `FileSystemError` when the data directory cannot be made private,
    ///   `ContentStoreError.fileSystem`.
    public init(layout: DataLayout) throws {
        try layout.prepare()
        try self.init(root: layout.ociLayout)
    }

    /// Opens (and creates when needed) the layout at `root`.
    ///
    /// - Throws: `ContentStoreError.fileSystem`.
    public init(root: URL) throws(ContentStoreError) {
        self.root = root
        let blobs = root.appendingPathComponent("blobs/sha256")
        do {
            try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        } catch {
            throw .fileSystem(path: blobs.path, operation: "mkdir", code: EACCES)
        }
        let marker = root.appendingPathComponent("oci-layout")
        if !FileManager.default.fileExists(atPath: marker.path) {
            try Self.writeAtomically(Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: marker)
        }
    }

    /// `blobs/sha256/<hex>`.
    public func path(of digest: Digest) -> URL {
        root.appendingPathComponent("blobs").appendingPathComponent(digest.algorithm)
            .appendingPathComponent(digest.encoded)
    }

    /// Whether the verified blob is present.
    public func has(_ digest: Digest) -> Bool {
        access(path(of: digest).path, F_OK) == 0
    }

    /// A writer streaming into a temp file beside the blobs.
    ///
    /// - Parameter followed: the bytes can be read while they arrive (``BlobWriter/follow``).
    /// - Throws: `ContentStoreError.fileSystem`.
    public func makeWriter(followed: Bool = false) throws(ContentStoreError) -> BlobWriter {
        try BlobWriter(directory: root.appendingPathComponent("blobs"), followed: followed)
    }

    /// Checks the writer's SHA-256 against `digest`, fsyncs and renames it into place.
    ///
    /// - Returns: the blob's path.
    /// - Throws: `ContentStoreError.digestMismatch` (the temp file is deleted), `.fileSystem`.
    @discardableResult
    public func commit(_ writer: BlobWriter, as digest: Digest) async throws -> URL {
        let actual = writer.digest()
        guard actual == digest else {
            writer.discard()
            throw ContentStoreError.digestMismatch(path: writer.temporaryPath, expected: digest, actual: actual)
        }
        let destination = path(of: digest)
        try await BlockingExecutor.shared.run { try writer.finish(at: destination.path) }
        return destination
    }

    /// Stores a small document (manifest, index, config) and returns its digest.
    @discardableResult
    public func write(_ data: Data) async throws -> Digest {
        let digest = SHA256.digest(of: data)
        if has(digest) { return digest }
        let writer = try makeWriter()
        try data.withUnsafeBytes { try writer.write($0) }
        try await commit(writer, as: digest)
        return digest
    }

    /// Reads a small blob whole (manifests, configs: never layers).
    ///
    /// - Throws: `ContentStoreError.fileSystem` when missing or unreadable.
    public func data(of digest: Digest) throws(ContentStoreError) -> Data {
        let path = path(of: digest).path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .fileSystem(path: path, operation: "read", code: access(path, F_OK) == 0 ? EIO : ENOENT)
        }
        return data
    }

    /// Bytes the blobs occupy on disk (allocated blocks, not apparent sizes): TotalOCICacheBytes.
    ///
    /// - Throws: `ContentStoreError.fileSystem` when the blob directory cannot be listed.
    public func totalBytes() throws(ContentStoreError) -> Int64 {
        let directory = root.appendingPathComponent("blobs/sha256").path
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw .fileSystem(path: directory, operation: "list", code: ENOENT)
        }
        var total: Int64 = 0
        for name in names where !name.hasPrefix(".") {
            var info = stat()
            if stat(directory + "/" + name, &info) == 0 { total += Int64(info.st_blocks) * 512 }
        }
        return total
    }

    /// Writes `data` to a temp file beside `url`, fsyncs it and renames it over `url`.
    static func writeAtomically(_ data: Data, to url: URL) throws(ContentStoreError) {
        let temporary = url.path + ContentStore.temporaryName()
        let descriptor = try ContentStore.createLockedTemporary(temporary)
        // Closed only after the rename: the writer's lock covers the temp name until it is gone.
        defer { close(descriptor) }
        let written = data.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        let code = errno
        guard written == data.count, synced else {
            unlink(temporary)
            throw .fileSystem(path: temporary, operation: "write", code: code)
        }
        guard rename(temporary, url.path) == 0 else {
            let code = errno
            unlink(temporary)
            throw .fileSystem(path: url.path, operation: "rename", code: code)
        }
    }
}
