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
    /// A value outside the range the schema accepts for the setting.
    case settingOutOfRange(key: String, value: Int, range: ClosedRange<Int>)
    /// A pending row the schema does not let a claim take (a counter written by hand at its
    /// bound); it is failed with this text so it cannot block the queue.
    case unclaimable(id: Int, reason: String)
    /// A host id (`--host-id`, `--target-host`) that is empty, longer than 255 bytes or holds
    /// whitespace or control characters.
    case invalidHost(String)

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
        case .settingOutOfRange(let key, let value, let range):
            return "setting \(key): \(value) is out of range; use \(range.lowerBound)...\(range.upperBound)"
        case .unclaimable(let id, let reason):
            return "image \(id): cannot be claimed: \(reason); a column was written by hand out of range, "
                + "fix the row and run image-worker retry"
        case .invalidHost(let host):
            return "host id \"\(SafeText.escaping(host))\": use 1 to 255 bytes without whitespace or control characters, "
                + "e.g. the host's name"
        }
    }
}
