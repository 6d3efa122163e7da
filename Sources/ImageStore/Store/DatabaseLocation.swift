import Foundation

/// Where the queue lives: a SQLite file, or a PostgreSQL server named by URL.
///
/// `postgres://…` and `postgresql://…` (libpq's URI forms) select PostgreSQL; anything else
/// is a SQLite path, as it always was.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    /// A SQLite database file.
    case sqlite(path: String)
    /// A PostgreSQL connection URL, as libpq takes it.
    case postgres(url: String)

    /// The location `text` names.
    public init(_ text: String) {
        let lowered = text.lowercased()
        if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
            self = .postgres(url: text)
        } else {
            self = .sqlite(path: text)
        }
    }

    /// The path, or the URL with any password replaced by `***`: safe for logs and errors.
    public var description: String {
        switch self {
        case .sqlite(let path): return path
        case .postgres(let url): return Self.redacting(url)
        }
    }

    /// `url` with the password of its user-info part (`user:password@`) replaced by `***`,
    /// and a `password=` query parameter too.
    static func redacting(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "postgres://(unparsable URL)" }
        if components.password != nil { components.password = "***" }
        if let items = components.queryItems, items.contains(where: { $0.name == "password" }) {
            components.queryItems = items.map { $0.name == "password" ? URLQueryItem(name: "password", value: "***") : $0 }
        }
        return components.string ?? "postgres://(unparsable URL)"
    }
}
