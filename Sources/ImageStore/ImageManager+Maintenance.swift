import Foundation

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

        enum CodingKeys: String, CodingKey {
            case blobsRemoved = "blobs_removed"
            case blobBytesFreed = "blob_bytes_freed"
            case disksRemoved = "disks_removed"
            case diskBytesFreed = "disk_bytes_freed"
            case scratchRemoved = "scratch_removed"
        }
    }

    /// Deletes every row named `reference` (as typed, normalized, or by digest) and each disk
    /// file no remaining row shares. A file an in-flight build is writing lives in that build's
    /// scratch directory, so it is never removed here; the build finds its row gone and drops
    /// its work.
    /// - Returns: the number of rows deleted.
    /// - Throws: `QueueError.notFound`, `StoreError`.
    @discardableResult
    public func delete(_ reference: String) async throws -> Int {
        let deleted = try await queue.delete(reference)
        try await BlockingExecutor.shared.run {
            for path in deleted.orphanPaths { unlinkIfPresent(path) }
        }
        return deleted.rows
    }

    /// Allocated bytes of all ready disk files, each file counted once however many names
    /// share it (the Go original counted a digest once per tag, in apparent bytes).
    public func totalImageBytes() async throws -> Int64 {
        let paths = Set(try await queue.artifacts().filter { $0.state == "ready" }.compactMap(\.path))
        return paths.reduce(Int64(0)) { $0 + DiskFile.allocatedBytes($1) }
    }

    /// Bytes the blob cache takes on disk.
    public func totalOCICacheBytes() throws -> Int64 { try store.totalBytes() }

    /// Requeues rows whose worker stopped heartbeating (or fails them at `max_attempts`), drops
    /// their unfinished conversions, removes their scratch directories and the content-store
    /// temp files of processes that no longer exist: what every worker runs at start and every
    /// 10 s, and `image-worker recover` runs by hand.
    /// - Returns: what was recovered and removed.
    @discardableResult
    public func recoverInterruptedBuilds(now: Int = ImageQueue.nowMilliseconds()) async throws -> RecoveryReport {
        var report = RecoveryReport()
        report.rows = try await queue.recoverInterruptedBuilds(now: now)
        report.conversionsDropped = try await queue.abandonOrphanBuilds()
        report.scratchRemoved = try await removeStaleScratch(olderThan: nil, now: now)
        let store = store
        report.tempFilesRemoved = try await BlockingExecutor.shared.run { store.removeTemporaryFilesOfDeadProcesses() }
        return report
    }

    /// Removes artifacts no row points at (rows deleted with plain SQL), blobs no row refers to
    /// (directly or through its index and manifest), disk files no artifact refers to, scratch no
    /// live build owns and the temp files of killed downloads. Blobs, temp files and
    /// foreground-export scratch younger than `grace` are kept: a pull in progress may not have
    /// recorded them yet.
    public func collectGarbage(grace: Duration, now: Int = ImageQueue.nowMilliseconds()) async throws
        -> GarbageReport
    {
        var report = GarbageReport()
        _ = try await queue.deleteUnreferencedArtifacts()
        let graceMilliseconds = grace.wholeMilliseconds
        let keep = try await reachableBlobs()
        let cutoff = Date(timeIntervalSince1970: Double(now - graceMilliseconds) / 1000)
        let blobDirectory = layout.ociLayout.appendingPathComponent("blobs/sha256", isDirectory: true)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: blobDirectory.path)) ?? [] {
            let path = blobDirectory.appendingPathComponent(name).path
            guard !keep.contains("sha256:\(name)"), Self.modified(path) < cutoff else { continue }
            report.blobBytesFreed += DiskFile.allocatedBytes(path)
            if unlinkIfPresent(path) { report.blobsRemoved += 1 }
        }
        try await store.removeIndexEntries { !keep.contains($0.description) }

        let known = Set(try await queue.artifacts().compactMap(\.path))
        let disks = FileManager.default.enumerator(atPath: layout.disks.path)
        var directories: [String] = []
        while let relative = disks?.nextObject() as? String {
            let path = layout.disks.appendingPathComponent(relative).path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                directories.append(path)
            } else if !known.contains(path) {
                report.diskBytesFreed += DiskFile.allocatedBytes(path)
                if unlinkIfPresent(path) { report.disksRemoved += 1 }
            }
        }
        for directory in directories.sorted(by: >) { rmdir(directory) }
        report.scratchRemoved = try await removeStaleScratch(olderThan: cutoff, now: now)
        let store = store
        report.scratchRemoved += try await BlockingExecutor.shared.run { store.removeTemporaryFiles(olderThan: cutoff) }
        return report
    }

    /// Every digest reachable from a row or artifact: indexes, manifests, configs, layers.
    private func reachableBlobs() async throws -> Set<String> {
        var keep = Set<String>()
        var pending = Array(try await queue.referencedDigests())
        while let text = pending.popLast() {
            guard keep.insert(text).inserted, let digest = try? Digest(parsing: text),
                let data = try? store.data(of: digest)
            else { continue }
            if let index = try? JSONDecoder().decode(Index.self, from: data), !index.manifests.isEmpty {
                pending += index.manifests.map(\.digest.description)
            } else if let manifest = try? JSONDecoder().decode(Manifest.self, from: data) {
                pending.append(manifest.config.digest.description)
                pending += manifest.layers.map(\.digest.description)
            }
        }
        return keep
    }

    /// Removes `build-<id>-<token>` directories whose claim is not in flight, and (when
    /// `olderThan` is given) foreground `export-*` directories older than it, under the data
    /// directory's `tmp/` and under ``treeScratch``.
    private func removeStaleScratch(olderThan cutoff: Date?, now: Int) async throws -> Int {
        // List before asking which claims are live: a directory made after the query would
        // otherwise look orphaned.
        let entries = Set([layout.scratch, treeScratch]).flatMap { root in
            ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).map {
                (name: $0, path: root.appendingPathComponent($0))
            }
        }
        let live = try await queue.inFlightClaims()
        var removed = 0
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
            if (try? await BlockingExecutor.shared.run({ try FileManager.default.removeItem(at: path) })) != nil {
                removed += 1
            }
        }
        return removed
    }

    private static func modified(_ path: String) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
    }
}

/// Removes a file; `true` when it existed.
@discardableResult
private func unlinkIfPresent(_ path: String) -> Bool {
    (try? FileManager.default.removeItem(atPath: path)) != nil
}
