/// How the queue should treat a failure.
public enum ErrorKind: Sendable, Equatable {
    /// Retrying cannot help: a bad reference, 401/403/404, a hostile layer, mkfs refusing input.
    case permanent
    /// The same request may succeed later; `retryAfter` is a lower bound the server asked for.
    case transient(retryAfter: Duration?)

    /// `true` for `.transient`.
    public var isTransient: Bool {
        if case .transient = self { return true }
        return false
    }
}

/// An error that knows whether the queue should retry it.
///
/// Every module error enum of ImageStore conforms, deciding the kind beside its cases.
/// An error that does not conform is treated as transient (within the attempt limit)
/// and logged as `unclassified`.
public protocol ClassifiedError: Error, Sendable, CustomStringConvertible {
    /// Permanent or transient, decided by the module that threw it.
    var kind: ErrorKind { get }
}

extension ErrorKind {
    /// The kind of any error: its own for a `ClassifiedError`, transient otherwise.
    public static func of(_ error: any Error) -> ErrorKind {
        (error as? any ClassifiedError)?.kind ?? .transient(retryAfter: nil)
    }
}
