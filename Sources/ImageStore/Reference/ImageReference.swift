/// A validated, normalized image reference: the Swift counterpart of the Go original's
/// `NormalizedRef` (`ParseNormalizedRef`, `Repository()`, `Tag()`, `Digest()`, `DigestHex()`,
/// `IsDigest()`, `String()`).
///
/// Normalization follows the distribution reference grammar and Docker's defaults:
///
/// | input | normalized |
/// |---|---|
/// | `alpine` | `docker.io/library/alpine:latest` |
/// | `alpine:3.18` | `docker.io/library/alpine:3.18` |
/// | `alpine@sha256:…` | `docker.io/library/alpine@sha256:…` |
/// | `alpine:3.18@sha256:…` | `docker.io/library/alpine@sha256:…` (the digest wins) |
/// | `localhost:5000/x/y:1` | `localhost:5000/x/y:1` |
///
/// The first path component names a registry when it contains `.` or `:`, or is `localhost`.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// Registry host and optional port, e.g. `docker.io`, `localhost:5000`.
    public let registry: String
    /// Repository path inside the registry, e.g. `library/alpine`.
    public let path: String
    /// The tag; `nil` when the reference names a digest.
    public let tag: String?
    /// The digest; `nil` for a tagged reference.
    public let digest: Digest?

    /// The default registry of unqualified names.
    public static let dockerHub = "docker.io"

    /// Parses and normalizes what a user typed.
    ///
    /// - Parameter text: `[registry/]path[:tag][@digest]`.
    /// - Throws: a `ReferenceError` saying which part is wrong.
    public init(parsing text: String) throws(ReferenceError) {
        guard !text.isEmpty else { throw .empty }
        guard text.utf8.count <= 255 else { throw .nameTooLong(reference: text, length: text.utf8.count) }

        var remainder = Substring(text)
        var digest: Digest?
        if let at = remainder.firstIndex(of: "@") {
            digest = try Digest(parsing: String(remainder[remainder.index(after: at)...]))
            remainder = remainder[..<at]
        }
        var tag: String?
        // A ':' after the last '/' separates the tag; an earlier one is a registry port.
        let lastSlash = remainder.lastIndex(of: "/")
        let tagSearchStart = lastSlash.map { remainder.index(after: $0) } ?? remainder.startIndex
        if let colon = remainder[tagSearchStart...].firstIndex(of: ":") {
            let candidate = String(remainder[remainder.index(after: colon)...])
            guard ImageReference.isValidTag(candidate) else { throw .invalidTag(reference: text, tag: candidate) }
            tag = candidate
            remainder = remainder[..<colon]
        }

        var components = remainder.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var registry = ImageReference.dockerHub
        if components.count > 1, let first = components.first,
            first.contains(".") || first.contains(":") || first == "localhost"
        {
            guard ImageReference.isValidRegistry(first) else { throw .invalidRegistry(reference: text, registry: first) }
            registry = first == "index.docker.io" ? ImageReference.dockerHub : first
            components.removeFirst()
        }
        for component in components {
            if component.contains(where: \.isUppercase) { throw .uppercaseRepository(reference: text) }
            guard ImageReference.isValidPathComponent(component) else {
                throw .invalidRepositoryComponent(reference: text, component: component)
            }
        }
        if registry == ImageReference.dockerHub && components.count == 1 {
            components.insert("library", at: 0)
        }
        self.registry = registry
        self.path = components.joined(separator: "/")
        self.digest = digest
        self.tag = digest == nil ? (tag ?? "latest") : nil
    }

    /// A reference to `digest` in the same repository.
    public func withDigest(_ digest: Digest) -> ImageReference {
        ImageReference(registry: registry, path: path, tag: nil, digest: digest)
    }

    private init(registry: String, path: String, tag: String?, digest: Digest?) {
        self.registry = registry
        self.path = path
        self.tag = tag
        self.digest = digest
    }

    /// `registry/path`, e.g. `docker.io/library/alpine` (the Go original's `Repository()`).
    public var repository: String { "\(registry)/\(path)" }

    /// `true` when the reference names a digest (the Go original's `IsDigest()`).
    public var isDigest: Bool { digest != nil }

    /// The tag or the digest, as used in a manifest URL.
    public var manifestReference: String { digest?.description ?? tag ?? "latest" }

    /// The full normalized reference (the Go original's `String()`).
    public var description: String {
        if let digest { return "\(repository)@\(digest)" }
        return "\(repository):\(tag ?? "latest")"
    }

    /// The host to connect to: Docker Hub's API lives at `registry-1.docker.io`.
    public var apiHost: String { registry == ImageReference.dockerHub ? "registry-1.docker.io" : registry }

    // MARK: - Grammar

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
    static func isValidPathComponent(_ component: String) -> Bool {
        let bytes = Array(component.utf8)
        guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else {
            return false
        }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if isLowerAlnum(byte) {
                index += 1
                continue
            }
            // A separator run: '.', '_', '__' or one or more '-'.
            var end = index
            while end < bytes.count, !isLowerAlnum(bytes[end]) { end += 1 }
            let separator = bytes[index..<end]
            let allDashes = separator.allSatisfy { $0 == 0x2D }
            let ok = allDashes || separator.elementsEqual([0x2E]) || separator.elementsEqual([0x5F])
                || separator.elementsEqual([0x5F, 0x5F])
            guard ok else { return false }
            index = end
        }
        return true
    }

    /// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard let first = bytes.first, bytes.count <= 128, isWord(first) else { return false }
        return bytes.dropFirst().allSatisfy { isWord($0) || $0 == 0x2E || $0 == 0x2D }
    }

    /// `host[:port]` where host is dot-separated labels of `[A-Za-z0-9-]` not starting or ending
    /// with `-`, or a bracketed IPv6 address.
    static func isValidRegistry(_ registry: String) -> Bool {
        var host = Substring(registry)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let inside = host[host.index(after: host.startIndex)..<close]
            guard !inside.isEmpty, inside.allSatisfy({ $0.isHexDigit || $0 == ":" }) else { return false }
            host = host[host.index(after: close)...]
            if host.isEmpty { return true }
            guard host.hasPrefix(":") else { return false }
            return isValidPort(host.dropFirst())
        }
        if let colon = host.firstIndex(of: ":") {
            guard isValidPort(host[host.index(after: colon)...]) else { return false }
            host = host[..<colon]
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return !labels.isEmpty
            && labels.allSatisfy { label in
                guard let first = label.utf8.first, let last = label.utf8.last else { return false }
                return first != 0x2D && last != 0x2D
                    && label.utf8.allSatisfy { isAlnum($0) || $0 == 0x2D }
            }
    }

    private static func isValidPort(_ port: Substring) -> Bool {
        guard !port.isEmpty, port.count <= 5, let value = Int(port) else { return false }
        return port.allSatisfy(\.isASCII) && value <= 65535
    }

    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
    }

    private static func isAlnum(_ byte: UInt8) -> Bool {
        isLowerAlnum(byte) || (byte >= 0x41 && byte <= 0x5A)
    }

    private static func isWord(_ byte: UInt8) -> Bool { isAlnum(byte) || byte == 0x5F }
}
