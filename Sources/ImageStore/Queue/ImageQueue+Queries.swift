/// The raw `images` rows with their queue bookkeeping (lease token, worker, backoff), for
/// operators and queue tests. What a caller of the seed's API reads is ``Image`` (the
/// `image_status` view): ``images()``, ``images(matching:)``, ``image(id:)``.
extension ImageQueue {
    /// Every images row, oldest first.
    /// - Throws: `StoreError`.
    public func list() async throws -> [ImageRecord] {
        try await database.read { db in
            try db.query(Statements.listImages).map(ImageRecord.init(row:))
        }
    }

    /// The rows whose name, normalized name or digest equals `reference` (or, when none does,
    /// whose normalized name equals `reference` normalized), oldest first.
    /// - Throws: `QueueError.notFound` when there is none, `StoreError`.
    public func status(_ reference: String) async throws -> [ImageRecord] {
        // `alpine` also finds rows enqueued as `alpine:latest` or `docker.io/library/alpine`
        // through their normalized name (the Go original's GetImage normalized first).
        let normalized = (try? ImageReference(parsing: reference))?.description
        let rows = try await database.read { db in
            var rows = try db.query(Statements.imagesMatching, [.text(reference)]).map(ImageRecord.init(row:))
            if rows.isEmpty, let normalized, normalized != reference {
                rows = try db.query(Statements.imagesMatching, [.text(normalized)]).map(ImageRecord.init(row:))
            }
            return rows
        }
        if rows.isEmpty { throw QueueError.notFound(reference: reference) }
        return rows
    }

    /// The row's place in claim order (1 = next), as the image_status view computes it;
    /// `nil` unless the row is pending.
    /// - Throws: `StoreError`.
    public func queuePosition(id: Int) async throws -> Int? {
        try await database.read { db in
            try db.query(Statements.queuePosition, [.int(id)]).first?.optionalInt("queue_position")
        }
    }

    /// How many rows have `status`.
    /// - Throws: `StoreError`.
    public func count(status: String) async throws -> Int {
        try await database.read { db in
            try db.query(Statements.countWithStatus, [.text(status)]).first?.int("count") ?? 0
        }
    }

    /// Rows per status, every status present (0 when none): the `images` gauge.
    /// - Throws: `StoreError`.
    public func countsByStatus() async throws -> [String: Int] {
        try await database.read { db in
            var counts = Dictionary(uniqueKeysWithValues: ImageQueue.statuses.map { ($0, 0) })
            for row in try db.query(Statements.countByStatus) {
                counts[try row.text("status")] = try row.int("count")
            }
            return counts
        }
    }

    // MARK: - Settings

    /// The value of a setting; its ``SettingKey/defaultValue`` when the row is missing.
    /// - Throws: `StoreError`.
    public func setting(_ key: SettingKey) async throws -> Int {
        try await database.read { db in try Self.setting(key, db) }
    }

    /// Sets a setting for every process sharing the database.
    /// - Throws: `QueueError.settingOutOfRange` outside ``SettingKey/validRange``, `StoreError`.
    public func setSetting(_ key: SettingKey, to value: Int) async throws {
        guard key.validRange.contains(value) else {
            throw QueueError.settingOutOfRange(key: key.rawValue, value: value, range: key.validRange)
        }
        try await database.write { db in
            try db.execute(Statements.upsertSetting, [.text(key.rawValue), .int(value)])
        }
    }
}
