import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Dedupe: one conversion and one disk file per (host, manifest digest, format, verity), shared by
/// every row that resolves to it on that host (a disk on host A never makes a row ready on B). The builder of an artifact is a claim (image id + lease token); it is
/// alive while that row is in flight under that token, so a crashed builder's conversion is
/// taken over by the next claim without a separate lease.
extension ImageQueue {
    /// Records what the claim's name resolved to, so lookups by digest work while it builds.
    /// - Throws: `QueueError.leaseLost`.
    public func recordResolution(
        _ claim: Claim, normalizedName: String, digest: String, manifestDigest: String, platform: String, now: Int? = nil
    ) async throws {
        try await fenced(
            Statements.recordResolution, claim, now: now,
            [.text(normalizedName), .text(digest), .text(manifestDigest), .text(platform)])
    }

    /// Records the progress of `stage` for people following the row: layer bytes downloaded
    /// (`pulling`) or applied to the disk (`converting`) of `bytesTotal`. Dropped when the row
    /// is no longer in `stage` under this claim (the heartbeat notices a lost lease).
    /// - Returns: whether the row took the figures.
    /// - Throws: `StoreError`.
    @discardableResult
    public func recordProgress(_ claim: Claim, stage: ImageStatus, bytesDone: Int64, bytesTotal: Int64, now: Int? = nil)
        async throws -> Bool
    {
        let arguments = fence(claim, now: now) + [.integer(bytesDone), .integer(bytesTotal), .text(stage.rawValue)]
        return try await database.write { db in try db.executeCommitting(Statements.recordProgress, arguments) } == 1
    }

    /// Returns the row to pending for `delay` milliseconds (the database's clock) without
    /// using an attempt.
    /// - Throws: `QueueError.leaseLost`.
    public func deferClaim(_ claim: Claim, for delay: Int, now: Int? = nil) async throws {
        try await fenced(Statements.deferClaim, claim, now: now, [.int(delay)])
    }

    /// Decides who converts `manifestDigest` in `format`, with or without a dm-verity tree, in
    /// one transaction.
    ///
    /// - Parameters:
    ///   - path: the final path the disk will have; recorded at once so GC never takes the file
    ///     for an orphan between its rename and publication.
    ///   - verity: the disk carries a dm-verity tree; a disk with one and a disk without are two
    ///     artifacts.
    /// - Returns: `.ready` to share a finished disk, `.acquired` to convert, `.busy` to wait.
    /// - Throws: `QueueError.leaseLost` when the claim is no longer current, `StoreError`.
    public func acquireBuild(
        _ claim: Claim, manifestDigest: String, format: String, verity: Bool = false, path: String, now: Int? = nil
    ) async throws -> BuildLock {
        let time = time(now)
        let lock: BuildLock? = try await database.write(begin: Statements.beginSerialized) { db in
            guard try db.query(Statements.builderAlive, [.int(claim.id), .int(claim.token), time]).first?
                .int("alive") == 1
            else { return nil }
            let verityFlag = SQLValue.int(verity ? 1 : 0)
            guard
                let row = try db.query(
                    Statements.artifactFor, [.text(manifestDigest), .text(format), verityFlag, .text(host)]
                ).first
            else {
                let inserted = try db.query(
                    Statements.insertArtifact,
                    [.text(manifestDigest), .text(format), .text(path), .int(claim.id), .int(claim.token), time,
                     verityFlag, .text(host)])
                return .acquired(artifactID: try inserted.first?.int("id") ?? 0)
            }
            let id = try row.int("id")
            if try row.text("state") == "ready" {
                let readyPath = try row.optionalText("path") ?? path
                let layers = try row.optionalText("layers_json").map { ArtifactLayer.list(json: $0) ?? [] }
                if Self.isIntact(readyPath, allocatedBytes: try row.optionalInt("size_bytes"), layers: layers) {
                    return .ready(artifactID: id, path: readyPath)
                }
                // Deleted or damaged behind our back: never share it, build it again.
                _ = try db.execute(Statements.rebuildArtifact, [.int(id), .int(claim.id), .int(claim.token), .text(path)])
                return .acquired(artifactID: id)
            }
            let builder = try row.optionalInt("builder_image_id") ?? 0
            let token = try row.optionalInt("builder_token") ?? 0
            let alive = try db.query(Statements.builderAlive, [.int(builder), .int(token), time]).first?
                .int("alive") == 1
            if alive && !(builder == claim.id && token == claim.token) { return .busy }
            _ = try db.execute(Statements.takeOverArtifact, [.int(id), .int(claim.id), .int(claim.token), .text(path)])
            return .acquired(artifactID: id)
        }
        guard let lock else { throw QueueError.leaseLost(id: claim.id, token: claim.token) }
        return lock
    }

    /// Whether a ready artifact's files are there: for erofs-layers (`layers` not `nil`) the list
    /// file and every layer disk of its recorded size, else the disk of the size recorded at publish.
    static func isIntact(_ path: String, allocatedBytes: Int?, layers: [ArtifactLayer]?) -> Bool {
        guard let layers else { return fileIsIntact(path, allocatedBytes: allocatedBytes) }
        return fileIsIntact(path, allocatedBytes: nil)
            && layers.allSatisfy { fileIsIntact($0.path, allocatedBytes: Int(clamping: $0.sizeBytes)) }
    }

    /// Whether `path` is a regular file of `allocatedBytes` (any size when `nil`).
    static func fileIsIntact(_ path: String, allocatedBytes: Int?) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return false }
        guard let allocatedBytes else { return true }
        return Int64(info.st_blocks).multipliedReportingOverflow(by: 512).partialValue == Int64(allocatedBytes)
    }

    /// Marks the row ready on an artifact that is already ready.
    /// - Returns: `false` when the artifact was deleted meanwhile (convert it again).
    /// - Throws: `QueueError.leaseLost`.
    public func completeSharing(_ claim: Claim, artifactID: Int, now: Int? = nil) async throws -> Bool {
        let fence = fence(claim, now: now)
        let time = fence[2]
        let result: Bool? = try await database.write { db in
            if try db.execute(Statements.completeWithArtifact, fence + [.int(artifactID)]) == 1 {
                return true
            }
            let alive = try db.query(Statements.builderAlive, [.int(claim.id), .int(claim.token), time]).first?
                .int("alive") == 1
            return alive ? false : nil
        }
        guard let result else { throw QueueError.leaseLost(id: claim.id, token: claim.token) }
        return result
    }

    /// Publishes a finished conversion: renames the disk into its final path and marks the
    /// artifact and the claim's row ready, in one transaction.
    ///
    /// The rename is fenced: it runs only after both fenced updates matched (this claim still
    /// holds its row and is still the artifact's builder), while the write lock is held, so a
    /// builder whose lease was taken over never replaces a disk another builder published. If
    /// the rename fails the transaction rolls back and nothing is published.
    /// - Parameters:
    ///   - verity: the disk's dm-verity root hash, salt and hash offset, recorded with the
    ///     artifact; `nil` for a disk without a tree.
    ///   - layers: erofs-layers: the layer disks the artifact lists, base first
    ///     (`artifacts.layers_json`); `nil` for the other formats.
    ///   - moveIntoPlace: renames the finished file to its final path (blocking, brief: a rename
    ///     and a directory fsync; it runs inside the transaction, on the thread that runs it:
    ///     the caller's when the SQLite handle and write lock were free, else the connection's).
    /// - Throws: `QueueError.leaseLost` (nothing renamed, nothing changed) when the claim or the
    ///   build was lost; what `moveIntoPlace` threw.
    public func publish(
        _ claim: Claim, artifactID: Int, sizeBytes: Int64, configJSON: String, verity: VerityInfo? = nil,
        layers: [ArtifactLayer]? = nil, now: Int? = nil,
        moveIntoPlace: @escaping @Sendable () throws -> Void
    ) async throws {
        let fence = fence(claim, now: now)
        try await database.write { db in
            guard
                try db.execute(
                    Statements.publishArtifact,
                    [.int(artifactID), .int(claim.id), .int(claim.token), .integer(sizeBytes), .text(configJSON),
                     fence[2], .optionalText(verity?.rootHash), .optionalText(verity?.salt),
                     verity.map { .integer(Int64(clamping: $0.hashOffset)) } ?? .null,
                     .optionalText(layers.map(ArtifactLayer.json))]) == 1,
                try db.execute(Statements.completeWithArtifact, fence + [.int(artifactID)]) == 1
            else {
                throw QueueError.leaseLost(id: claim.id, token: claim.token)
            }
            try moveIntoPlace()
        }
    }

    /// Drops the claim's unfinished conversion so another claim may start it.
    public func abandonBuild(_ claim: Claim, artifactID: Int) async throws {
        _ = try await database.write { db in
            try db.execute(Statements.abandonArtifact, [.int(artifactID), .int(claim.id), .int(claim.token)])
        }
    }

    /// Every artifact row of every host (``Artifact/host`` says whose).
    public func artifacts() async throws -> [Artifact] {
        try await database.read { db in
            try db.query(Statements.allArtifacts).map { row in
                Artifact(
                    id: try row.int("id"), host: try row.text("host"), manifestDigest: try row.text("manifest_digest"),
                    format: try row.text("format"), verity: try row.int("verity") != 0, state: try row.text("state"),
                    path: try row.optionalText("path"), sizeBytes: try row.optionalInt("size_bytes"),
                    configJSON: try row.optionalText("config_json"),
                    verityRootHash: try row.optionalText("verity_root_hash"),
                    veritySalt: try row.optionalText("verity_salt"),
                    verityHashOffset: try row.optionalInt("verity_hash_offset"),
                    layers: try row.optionalText("layers_json").flatMap(ArtifactLayer.list(json:)))
            }
        }
    }

    /// In-flight claims as (id, lease token): their scratch directories are live.
    public func inFlightClaims() async throws -> Set<String> {
        try await database.read { db in
            Set(try db.query(Statements.inFlight).map { "\(try $0.int("id"))-\(try $0.int("lease_token"))" })
        }
    }

    /// Drops conversions whose builder lost its row (run by recovery after requeueing).
    /// - Returns: how many were dropped.
    @discardableResult
    public func abandonOrphanBuilds() async throws -> Int {
        try await database.write { db in try db.execute(Statements.abandonOrphanBuilds) }
    }

    /// Deletes every row named `reference` (name, normalized name, digest or manifest digest)
    /// and this host's artifacts no row points at any more. Other hosts' artifacts the rows
    /// pointed at stay until those hosts collect them (`image-worker gc` there), because their
    /// files are on those hosts.
    /// - Returns: the deleted row count and this host's disk paths to remove now (with the layer
    ///   disks the deleted erofs-layers artifacts listed).
    /// - Throws: `QueueError.notFound` when no row matched.
    public func delete(_ reference: String) async throws -> (rows: Int, orphanPaths: [String]) {
        let result: (Int, [String]) = try await database.write { db in
            let rows = try db.query(Statements.deleteImages, [.text(reference)]).count
            let paths = try db.query(Statements.deleteUnreferencedArtifacts, [.text(host)]).flatMap(Self.filePaths)
            return (rows, paths)
        }
        guard result.0 > 0 else { throw QueueError.notFound(reference: reference) }
        return (result.0, result.1)
    }

    /// Deletes this host's ready artifacts no row points at any more (rows deleted with plain
    /// SQL). A row about to share one finds it gone and converts again.
    /// - Returns: their disk paths (and the layer disks erofs-layers artifacts listed), to remove.
    public func deleteUnreferencedArtifacts() async throws -> [String] {
        try await database.write { db in
            try db.query(Statements.deleteUnreferencedArtifacts, [.text(host)]).flatMap(Self.filePaths)
        }
    }

    /// The files of a deleted artifact row: its path and, for erofs-layers, the layer disks it
    /// listed (the caller keeps those another artifact still lists).
    private static func filePaths(_ row: SQLRow) throws -> [String] {
        let layers = try row.optionalText("layers_json").flatMap(ArtifactLayer.list(json:)) ?? []
        return (try row.optionalText("path").map { [$0] } ?? []) + layers.map(\.path)
    }

    /// Digests whose blobs this host still needs (index and manifest digests): of rows this host
    /// may build or has built, and of its artifacts. A row pinned to another host, or ready on
    /// another host's disk, needs no blob here.
    public func referencedDigests() async throws -> Set<String> {
        try await database.read { db in
            var digests = Set<String>()
            for row in try db.query(Statements.referencedDigests, [.text(host)]) {
                if let digest = try row.optionalText("digest") { digests.insert(digest) }
                if let manifest = try row.optionalText("manifest_digest") { digests.insert(manifest) }
            }
            return digests
        }
    }
}

extension ImageQueue {
    /// The row with `id`.
    /// - Throws: `QueueError.notFound` when it was deleted, `StoreError`.
    public func record(id: Int) async throws -> ImageRecord {
        let row = try await database.read { db in
            try db.query(Statements.imageByID, [.int(id)]).first.map(ImageRecord.init(row:))
        }
        guard let row else { throw QueueError.notFound(reference: "id \(id)") }
        return row
    }
}

extension ImageQueue {
    /// A number that changes whenever another connection (any process) committed a write: a
    /// lock-free way for an idle worker to notice an INSERT without claiming blindly. SQLite:
    /// `PRAGMA data_version`; PostgreSQL: the notifications the queue's listener has seen.
    public func dataVersion() async throws -> Int {
        if let listener { return listener.generation }
        return try await database.read { db in try db.query(Statements.dataVersion).first?.int("data_version") ?? 0 }
    }
}
