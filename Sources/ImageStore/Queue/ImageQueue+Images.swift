/// The rows as ``Image`` values (the `image_status` view), createImage's reuse rule, and the
/// Go original's `BuildQueue` figures, all read from the database so every process sees the
/// same numbers.
extension ImageQueue {
    // MARK: - Images

    /// Every image, oldest first.
    /// - Throws: `StoreError`.
    public func images() async throws -> [Image] {
        try await database.read { db in try db.query(Statements.allImageStatus).map(Image.init(row:)) }
    }

    /// The images whose name or normalized name equals `reference` or `reference` normalized,
    /// or whose digest or manifest digest equals `reference`, oldest first.
    /// - Throws: `QueueError.notFound` when there is none, `StoreError`.
    public func images(matching reference: String) async throws -> [Image] {
        // `alpine` also finds rows enqueued as `alpine:latest` or `docker.io/library/alpine`
        // through their normalized name (the Go original's GetImage normalized first).
        let normalized = (try? ImageReference(parsing: reference))?.description ?? reference
        let images = try await database.read { db in
            try db.query(Statements.imageStatusMatching, [.text(reference), .text(normalized)]).map(Image.init(row:))
        }
        if images.isEmpty { throw QueueError.notFound(reference: reference) }
        return images
    }

    /// The image of row `id`.
    /// - Throws: `QueueError.notFound` when the row was deleted, `StoreError`.
    public func image(id: Int) async throws -> Image {
        let image = try await database.read { db in
            try db.query(Statements.imageStatusByID, [.int(id)]).first.map(Image.init(row:))
        }
        guard let image else { throw QueueError.notFound(reference: "id \(id)") }
        return image
    }

    /// What ``createImage(_:format:priority:now:)`` did.
    public enum CreateOutcome: Sendable, Equatable {
        /// A new pending row.
        case enqueued
        /// A row of that name and format was pending, in flight or ready: nothing was added.
        case existing
        /// The only row of that name and format had failed: it is pending again, attempts reset.
        case retried
    }

    /// Asks for `reference` in `format`, the Go original's `CreateImage` + `BuildQueue.Enqueue`:
    /// when a row of that format already names it (as typed or normalized) and is pending,
    /// pulling, converting or ready, that row is the answer and nothing is added (a queued or
    /// building image keeps its current position); a failed one is retried; otherwise a
    /// pending row is inserted, its normalized name filled in. A row pinned to `targetHost`
    /// (NULL: unpinned) is reused only by a request pinned the same way. One `BEGIN IMMEDIATE`
    /// transaction, so two processes asking at once get one row.
    /// - Returns: the row's id and what happened.
    /// - Throws: `QueueError.unsupportedFormat`, `QueueError.invalidHost`, `StoreError`.
    public func createImage(
        _ reference: ImageReference, as name: String, format: String, priority: Int, targetHost: String? = nil,
        now: Int? = nil
    ) async throws -> (id: Int, outcome: CreateOutcome) {
        guard Self.formats.contains(format) else { throw QueueError.unsupportedFormat(format) }
        if let targetHost { try Self.validateTargetHost(targetHost) }
        let normalized = reference.description
        let time = time(now)
        return try await database.write(begin: Statements.beginSerialized) { db in
            if let row = try db.query(
                Statements.existingImage, [.text(name), .text(normalized), .text(format), .optionalText(targetHost)]
            ).first {
                let id = try row.int("id")
                guard try row.text("status") == "failed" else { return (id, .existing) }
                try db.execute(Statements.retryFailedByID, [.int(id), time])
                return (id, .retried)
            }
            let inserted = try db.query(
                Statements.insertNormalizedImage,
                [.text(name), .text(normalized), .text(format), .int(priority), time, .optionalText(targetHost)])
            return (try inserted.first?.int("id") ?? 0, .enqueued)
        }
    }

    // MARK: - BuildQueue figures

    /// Rows being built now (pulling or converting) in every process: the seed's `ActiveCount`.
    /// - Throws: `StoreError`.
    public func activeCount() async throws -> Int { try await figures().active }

    /// Rows waiting for a worker (pending, including those in backoff): the seed's `PendingCount`.
    /// - Throws: `StoreError`.
    public func pendingCount() async throws -> Int { try await figures().pending }

    /// Active plus pending, read in one statement: the seed's `QueueLength`.
    /// - Throws: `StoreError`.
    public func queueLength() async throws -> Int {
        let figures = try await figures()
        return figures.active + figures.pending
    }

    /// The seed's `GetPosition`: the 1-based claim position of the first pending row matching
    /// `reference` (as ``images(matching:)`` matches), or `nil` when none is pending (building,
    /// ready, failed or unknown).
    /// - Throws: `StoreError`.
    public func position(of reference: String) async throws -> Int? {
        let images: [Image]
        do {
            images = try await self.images(matching: reference)
        } catch QueueError.notFound {
            return nil
        }
        return images.compactMap(\.queuePosition).min()
    }

    private func figures() async throws -> (active: Int, pending: Int) {
        try await database.read { db in
            guard let row = try db.query(Statements.queueFigures).first else { return (0, 0) }
            return (try row.int("active"), try row.int("pending"))
        }
    }
}
