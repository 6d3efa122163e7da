/// The database schema cannot be brought to the version this binary knows.
public enum MigrationError: ClassifiedError, Equatable {
    /// The database lists a migration this binary does not have: a newer binary migrated it.
    case unknownMigration(identifier: String, path: String)
    /// A migration step failed; nothing of it was applied.
    case stepFailed(identifier: String, error: StoreError)

    public var kind: ErrorKind {
        switch self {
        case .unknownMigration: return .permanent
        case .stepFailed(_, let error): return error.kind
        }
    }

    public var description: String {
        switch self {
        case .unknownMigration(let identifier, let path):
            return
                "database \(path): applied migration \(identifier) is unknown to this binary; run a newer image-worker"
        case .stepFailed(let identifier, let error):
            return "migration \(identifier): \(error.description)"
        }
    }
}
