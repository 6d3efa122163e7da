/// Authorization header values per registry and scope, kept until they expire.
///
/// Shared by every request of a ``RegistryClient`` (and its copies), so a pull asks the token
/// server once per scope, not once per blob.
public actor TokenCache {
    private struct Entry {
        var authorization: Secret
        var expires: ContinuousClock.Instant?
    }

    private var entries: [String: Entry] = [:]
    private let clock = ContinuousClock()

    /// An empty cache.
    public init() {}

    /// The cached `Authorization` value for `registry` and `scope`, if still valid.
    func authorization(registry: String, scope: String) -> Secret? {
        let key = registry + " " + scope
        guard let entry = entries[key] else { return nil }
        if let expires = entry.expires, clock.now >= expires {
            entries[key] = nil
            return nil
        }
        return entry.authorization
    }

    /// Keeps `authorization` until `lifetime` minus a margin (a tenth, at least 5 s, at most 60 s)
    /// has passed; `nil` lifetime keeps it for the life of the process (Basic).
    func store(_ authorization: Secret, registry: String, scope: String, lifetime: Duration?) {
        var expires: ContinuousClock.Instant?
        if let lifetime {
            let margin = min(.seconds(60), max(.seconds(5), lifetime / 10))
            expires = clock.now.advanced(by: lifetime - margin)
        }
        entries[registry + " " + scope] = Entry(authorization: authorization, expires: expires)
    }

    /// Forgets the entry (after the registry rejected it).
    func remove(registry: String, scope: String) {
        entries[registry + " " + scope] = nil
    }
}
