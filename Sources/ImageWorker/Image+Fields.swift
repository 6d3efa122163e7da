import Foundation
import ImageStore

extension Image {
    /// Every field under its image_status column name, in the view's order, as text: arrays as
    /// compact JSON, `nil` as empty. What `status REF` prints.
    var fields: [(String, String)] {
        func text(_ value: (some CustomStringConvertible)?) -> String { value.map(\.description) ?? "" }
        func json(_ array: [String]?) -> String {
            guard let array else { return "" }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            return (try? encoder.encode(array)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        return [
            ("id", text(id)), ("name", name), ("normalized_name", text(normalizedName)), ("digest", text(digest)),
            ("manifest_digest", text(manifestDigest)), ("platform", text(platform)), ("format", format),
            ("priority", text(priority)), ("status", status.rawValue), ("queue_position", text(queuePosition)),
            ("attempts", text(attempts)), ("error", text(error)), ("error_kind", text(errorKind)),
            ("bytes_done", text(bytesDone)), ("bytes_total", text(bytesTotal)), ("size_bytes", text(sizeBytes)),
            ("artifact_path", text(diskPath)), ("target_host", text(targetHost)), ("artifact_host", text(artifactHost)),
            ("verity", text(verity)), ("verity_root_hash", text(verityRootHash)),
            ("verity_salt", text(veritySalt)), ("verity_hash_offset", text(verityHashOffset)),
            ("layers", layers.map(ArtifactLayer.json) ?? ""),
            ("entrypoint", json(entrypoint)), ("cmd", json(cmd)),
            ("env", json(env)), ("working_dir", text(workingDir)), ("user", text(user)),
            ("stop_signal", text(stopSignal)), ("is_systemd", text(isSystemd)), ("created_at", text(createdAt)),
            ("updated_at", text(updatedAt)), ("started_at", text(startedAt)), ("finished_at", text(finishedAt)),
            ("created", created), ("updated", updated),
        ]
    }
}
