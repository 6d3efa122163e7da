/// A queue operation was refused.
public enum QueueError: ClassifiedError, Equatable {
    /// The row was recovered or claimed again since this lease token: the caller is a zombie
    /// and must drop its work.
    case leaseLost(id: Int, token: Int)
    /// No images row has this name, normalized name or digest.
    case notFound(reference: String)
    /// `retry` found rows for the reference, none of them failed.
    case notFailed(reference: String)
    /// The format is not ext4, erofs or cpio.
    case unsupportedFormat(String)
    /// The settings key is not one of ``SettingKey``.
    case unknownSetting(String)

    public var kind: ErrorKind { .permanent }

    public var description: String {
        switch self {
        case .leaseLost(let id, let token):
            return
                "image \(id): lease token \(token) is no longer current; another worker or recovery took the row, drop this work"
        case .notFound(let reference):
            return "image \(reference): not in the queue; enqueue it first"
        case .notFailed(let reference):
            return "image \(reference): not failed, nothing to retry; see `image-worker status`"
        case .unsupportedFormat(let format):
            return "format \(format): unsupported; use ext4, erofs or cpio"
        case .unknownSetting(let key):
            return "setting \(key): unknown; use max_in_flight, max_attempts or lease_ms"
        }
    }
}
