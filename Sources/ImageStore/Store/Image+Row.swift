import Foundation

extension Image {
    /// Reads one `image_status` row.
    /// - Throws: `StoreError.columnType` when a column is missing or holds an unexpected type
    ///   (a JSON array column that is not an array of strings counts as one).
    init(row: SQLRow) throws {
        id = try row.int("id")
        name = try row.text("name")
        normalizedName = try row.optionalText("normalized_name")
        digest = try row.optionalText("digest")
        manifestDigest = try row.optionalText("manifest_digest")
        platform = try row.optionalText("platform")
        format = try row.text("format")
        priority = try row.int("priority")
        guard let status = ImageStatus(rawValue: try row.text("status")) else {
            throw StoreError.columnType(statement: row.statement, column: "status")
        }
        self.status = status
        queuePosition = try row.optionalInt("queue_position")
        attempts = try row.int("attempts")
        error = try row.optionalText("error")
        errorKind = try row.optionalText("error_kind")
        bytesDone = Int64(try row.int("bytes_done"))
        bytesTotal = try row.optionalInt("bytes_total").map(Int64.init)
        sizeBytes = try row.optionalInt("size_bytes").map(Int64.init)
        diskPath = try row.optionalText("artifact_path")
        targetHost = try row.optionalText("target_host")
        artifactHost = try row.optionalText("artifact_host")
        verity = try row.int("verity") != 0
        verityRootHash = try row.optionalText("verity_root_hash")
        veritySalt = try row.optionalText("verity_salt")
        verityHashOffset = try row.optionalInt("verity_hash_offset").map(Int64.init)
        if let text = try row.optionalText("layers") {
            guard let list = ArtifactLayer.list(json: text) else {
                throw StoreError.columnType(statement: row.statement, column: "layers")
            }
            layers = list
        } else {
            layers = nil
        }
        entrypoint = try Self.strings(row, "entrypoint")
        cmd = try Self.strings(row, "cmd")
        env = try Self.strings(row, "env")
        workingDir = try row.optionalText("working_dir")
        user = try row.optionalText("user")
        stopSignal = try row.optionalText("stop_signal")
        isSystemd = try row.optionalInt("is_systemd").map { $0 != 0 }
        createdAt = try row.int("created_at")
        updatedAt = try row.int("updated_at")
        startedAt = try row.optionalInt("started_at")
        finishedAt = try row.optionalInt("finished_at")
        created = try row.text("created")
        updated = try row.text("updated")
    }

    /// A column holding a JSON array of strings (what `json_extract` returns for an array).
    private static func strings(_ row: SQLRow, _ column: String) throws -> [String]? {
        guard let text = try row.optionalText(column) else { return nil }
        guard let array = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
            throw StoreError.columnType(statement: row.statement, column: column)
        }
        return array
    }
}
