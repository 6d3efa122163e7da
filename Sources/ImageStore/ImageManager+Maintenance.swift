import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Delete, garbage collection, usage and recovery: the Go original's `DeleteImage`,
/// `TotalImageBytes`, `TotalOCICacheBytes` and `RecoverInterruptedBuilds`.
extension ImageManager {
    /// What ``collectGarbage(grace:now:)`` removed.
    public struct GarbageReport: Sendable, Equatable, Codable {
        public var blobsRemoved = 0
        public var blobBytesFreed: Int64 = 0
        public var disksRemoved = 0
        public var diskBytesFreed: Int64 = 0
        public var scratchRemoved = 0
        /// Stale entries that could not be removed, each with its reason; gc exits 75 then.
        public var cleanupFailures: [String] = []

        enum CodingKeys: String, CodingKey {
            case blobsRemoved = "blobs_removed"
            case blobBytesFreed = "blob_bytes_freed"
            case disksRemoved = "disks_removed"
            case diskBytesFreed = "disk_bytes_freed"
            case scratchRemoved = "scratch_removed"
            case cleanupFailures = "cleanup_failures"
        }
    }

    /// Deletes every row named `reference` (as typed, normalized, by digest or manifest digest)
    /// and each disk file no remaining row shares (the seed's `DeleteImage`, which removed one
    /// tag's image for every tag). A file an in-flight build is writing lives in that build's
    /// scratch directory, so it is never removed here; the build finds its row gone and drops
    /// its work. Only this host's disks (``ImageQueue/host``) are removed: another host's
    /// artifacts of the deleted rows stay until `image-worker gc` runs there.
    /// - Returns: the number of rows deleted.
    /// - Throws: `QueueError.notFound`, `StoreError`.
    @discardableResult
    public func deleteImage(_ reference: String) async throws -> Int {
        let deleted = try await queue.delete(reference)
        let paths = try await pathsNoOtherArtifactNames(deleted.orphanPaths)
        try await BlockingExecutor.shared.run {
            for path in paths { unlinkIfPresent(path) }
        }
        return deleted.rows
    }

    /// `paths` less those an artifact row still names (of any host), as its disk or as one of
    /// its layer disks: a layer disk another image lists stays, and a data directory shared by
    /// two host ids by mistake never loses the other's disk.
    private func pathsNoOtherArtifactNames(_ paths: [String]) async throws -> [String] {
        guard !paths.isEmpty else { return [] }
        let named = Set(try await queue.artifacts().flatMap(\.filePaths))
        return Array(Set(paths)).sorted().filter { !named.contains($0) }
    }

    /// Allocated bytes of this host's ready disk files, each file counted once however many
    /// names share it (the Go original counted a digest once per tag, in apparent bytes); a
    /// layer disk of `erofs-layers` counts once however many images list it.
    public func totalImageBytes() async throws -> Int64 {
        let host = queue.host
        let paths = Set(
            try await queue.artifacts().filter { $0.state == "ready" && $0.host == host }.flatMap(\.filePaths))
        return paths.reduce(Int64(0)) { $0 + DiskFile.allocatedBytes($1) }
    }

    /// Allocated bytes the blob cache takes on disk (the seed's `TotalOCICacheBytes`). The
    /// directory walk runs on ``BlockingExecutor``.
    /// - Throws: `ContentStoreError.fileSystem` when the blob directory cannot be listed.
    public func totalOCICacheBytes() async throws -> Int64 {
        let store = store
        return try await BlockingExecutor.shared.run { try store.totalBytes() }
    }

    /// Requeues rows whose worker stopped heartbeating (or fails them at `max_attempts`), drops
    /// their unfinished conversions, removes their scratch directories and the content-store
    /// temp files no live writer holds (in any PID namespace): what every worker runs at start
    /// and every 10 s, and `image-worker recover` runs by hand. Leases are judged at `now`, or on
    /// the database's clock when it is `nil` (PostgreSQL: the server's); scratch ages on this host's.
    /// - Returns: what was recovered and removed, and each stale entry that could not be removed
    ///   (``RecoveryReport/cleanupFailures``; the callers log and report them).
    @discardableResult
    public func recoverInterruptedBuilds(now: Int? = nil) async throws -> RecoveryReport {
        var report = RecoveryReport()
        report.rows = try await queue.recoverInterruptedBuilds(now: now)
        report.conversionsDropped = try await queue.abandonOrphanBuilds()
        let scratch = try await removeStaleScratch(olderThan: nil, now: now ?? ImageQueue.nowMilliseconds())
        report.scratchRemoved = scratch.removed
        let store = store
        let temporary = try await BlockingExecutor.shared.run { store.removeTemporaryFilesOfDeadWriters() }
        report.tempFilesRemoved = temporary.removed
        report.cleanupFailures = scratch.failures + temporary.failures
        return report
    }

    /// Removes this host's artifacts no row points at (rows deleted with plain SQL), layer disks
    /// no artifact lists (older than `grace`), blobs no row
    /// this host may build refers to (directly or through its index and manifest), disk files
    /// in this data directory no artifact refers to, scratch no live build owns and the temp
    /// files of killed downloads. Blobs, temp files and foreground-export scratch younger than
    /// `grace` are kept: a pull in progress may not have recorded them yet. Another host's
    /// artifact rows are never touched: each host collects its own (``ImageQueue/host``), and a
    /// file any artifact row names, of any host, is never removed.
    public func collectGarbage(grace: Duration, now: Int = ImageQueue.nowMilliseconds()) async throws
        -> GarbageReport
    {
        var report = GarbageReport()
        for path in try await pathsNoOtherArtifactNames(try await queue.deleteUnreferencedArtifacts()) {
            report.diskBytesFreed += DiskFile.allocatedBytes(path)
            if unlinkIfPresent(path, failures: &report.cleanupFailures) { report.disksRemoved += 1 }
        }
        let graceMilliseconds = grace.wholeMilliseconds
        let keep = try await reachableBlobs()
        let cutoff = Date(timeIntervalSince1970: Double(now - graceMilliseconds) / 1000)
        let blobDirectory = layout.ociLayout.appendingPathComponent("blobs/sha256", isDirectory: true)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: blobDirectory.path)) ?? [] {
            let path = blobDirectory.appendingPathComponent(name).path
            guard !keep.contains("sha256:\(name)"), Self.modified(path) < cutoff else { continue }
            report.blobBytesFreed += DiskFile.allocatedBytes(path)
            if unlinkIfPresent(path, failures: &report.cleanupFailures) { report.blobsRemoved += 1 }
        }
        try await store.removeIndexEntries { !keep.contains($0.description) }

        // Compared as canonical paths: the rows may name the data directory through a symlink
        // or another spelling than this process was given.
        let known = Set(try await queue.artifacts().compactMap(\.path).map(Self.canonical))
        let disks = FileManager.default.enumerator(atPath: layout.disks.path)
        var directories: [String] = []
        while let relative = disks?.nextObject() as? String {
            let path = layout.disks.appendingPathComponent(relative).path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                directories.append(path)
            } else if !known.contains(Self.canonical(path)) {
                report.diskBytesFreed += DiskFile.allocatedBytes(path)
                if unlinkIfPresent(path, failures: &report.cleanupFailures) { report.disksRemoved += 1 }
            }
        }
        for directory in directories.sorted(by: >) { rmdir(directory) }
        // Layer disks no artifact lists (their images deleted with plain SQL, a build that
        // crashed after converting layers, temp files of a killed one), once older than the
        // grace: a build in progress lists its layers only when it publishes, and it touches
        // each disk it reuses (LayerDiskStore).
        let listed = Set(try await queue.artifacts().flatMap(\.filePaths).map(Self.canonical))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: layout.layerDisks.path)) ?? [] {
            let path = layout.layerDisks.appendingPathComponent(name).path
            guard !listed.contains(Self.canonical(path)), Self.modified(path) < cutoff else { continue }
            report.diskBytesFreed += DiskFile.allocatedBytes(path)
            if unlinkIfPresent(path, failures: &report.cleanupFailures) { report.disksRemoved += 1 }
        }
        let scratch = try await removeStaleScratch(olderThan: cutoff, now: now)
        report.scratchRemoved = scratch.removed
        report.cleanupFailures += scratch.failures
        let store = store
        let temporary = try await BlockingExecutor.shared.run { store.removeTemporaryFiles(olderThan: cutoff) }
        report.scratchRemoved += temporary.removed
        report.cleanupFailures += temporary.failures
        return report
    }

    /// `path` with symlinks resolved (`realpath`), or as given when it does not resolve.
    static func canonical(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Every digest reachable from a row or artifact: indexes, manifests, configs, layers.
    ///
    /// Only indexes and manifests are read, and only up to the registry's document limit:
    /// configs and layers are leaves, so gc's memory does not grow with layer size.
    private func reachableBlobs() async throws -> Set<String> {
        var keep = Set<String>()
        var documents = Array(try await queue.referencedDigests())
        while let text = documents.popLast() {
            guard keep.insert(text).inserted, let digest = try? Digest(parsing: text),
                let data = Self.smallBlob(store.path(of: digest).path)
            else { continue }
            if let index = try? JSONDecoder().decode(Index.self, from: data), !index.manifests.isEmpty {
                documents += index.manifests.map(\.digest.description)
            } else if let manifest = try? JSONDecoder().decode(Manifest.self, from: data) {
                keep.insert(manifest.config.digest.description)
                for layer in manifest.layers { keep.insert(layer.digest.description) }
            }
        }
        return keep
    }

    /// The bytes of a blob no larger than ``RegistryClient/documentLimit``, or `nil`.
    private static func smallBlob(_ path: String) -> Data? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_size <= RegistryClient.documentLimit else { return nil }
        return FileManager.default.contents(atPath: path)
    }

    /// Removes `build-<id>-<token>` directories whose claim is not in flight, and (when
    /// `olderThan` is given) foreground `export-*` directories older than it, under the data
    /// directory's `tmp/` (image-worker's own directory: nothing else is ever listed).
    /// - Returns: how many were removed, and a description of each that could not be.
    private func removeStaleScratch(olderThan cutoff: Date?, now: Int) async throws
        -> (removed: Int, failures: [String])
    {
        // List before asking which claims are live: a directory made after the query would
        // otherwise look orphaned.
        let root = layout.scratch
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).map {
            (name: $0, path: root.appendingPathComponent($0))
        }
        let live = try await queue.inFlightClaims()
        var removed = 0
        var failures: [String] = []
        for (name, path) in entries {
            let stale: Bool
            if name.hasPrefix("build-") {
                stale = !live.contains(String(name.dropFirst("build-".count)))
            } else if let cutoff {
                stale = Self.modified(path.path) < cutoff
            } else {
                stale = false
            }
            guard stale else { continue }
            do {
                if try await BlockingExecutor.shared.run({ try FileTree.remove(path.path) }) { removed += 1 }
            } catch {
                failures.append("\(error)")
            }
        }
        return (removed, failures)
    }

    private static func modified(_ path: String) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
    }
}

/// Removes a file; `true` when it existed.
@discardableResult
private func unlinkIfPresent(_ path: String) -> Bool {
    var failures: [String] = []
    return unlinkIfPresent(path, failures: &failures)
}

/// Removes a file; `true` when it existed. A failure other than "not there" is appended to
/// `failures`.
private func unlinkIfPresent(_ path: String, failures: inout [String]) -> Bool {
    if unlink(path) == 0 { return true }
    if errno != ENOENT {
        failures.append(FileSystemError.io(path: path, operation: "unlink", errno: errno).description)
    }
    return false
}
