/// A content digest, `algorithm:encoded`, as used by OCI for every blob and manifest.
///
/// Only `sha256` (64 hex digits) and `sha512` (128 hex digits) are accepted: those are the
/// algorithms the OCI image spec registers, and the ones we can verify.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// `sha256` or `sha512`.
    public let algorithm: String
    /// Lowercase hex of the hash.
    public let encoded: String

    /// Parses `sha256:<64 lowercase hex>` (or sha512).
    ///
    /// - Throws: `ReferenceError.invalidDigest` or `.unsupportedDigestAlgorithm`.
    public init(parsing text: String) throws(ReferenceError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw .invalidDigest(digest: text, reason: "expected algorithm:hex, e.g. sha256:…")
        }
        let algorithm = String(text[..<colon])
        let encoded = String(text[text.index(after: colon)...])
        guard Digest.isAlgorithmSyntax(algorithm) else {
            throw .invalidDigest(digest: text, reason: "\"\(algorithm)\" is not an algorithm name")
        }
        let length: Int
        switch algorithm {
        case "sha256": length = 64
        case "sha512": length = 128
        default: throw .unsupportedDigestAlgorithm(digest: text, algorithm: algorithm)
        }
        guard encoded.utf8.count == length else {
            throw .invalidDigest(
                digest: text, reason: "\(algorithm) needs \(length) hex digits, found \(encoded.utf8.count)")
        }
        guard encoded.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw .invalidDigest(digest: text, reason: "the hex part must be lowercase 0-9a-f")
        }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// A sha256 digest from already validated lowercase hex (e.g. computed by our hasher).
    public init(sha256Hex hex: String) {
        algorithm = "sha256"
        encoded = hex
    }

    /// `algorithm:encoded`.
    public var description: String { "\(algorithm):\(encoded)" }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    /// `[a-z0-9]+([+._-][a-z0-9]+)*` per the OCI descriptor spec.
    private static func isAlgorithmSyntax(_ text: String) -> Bool {
        var previousWasSeparator = true
        for byte in text.utf8 {
            let isAlnum = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
            let isSeparator = byte == 0x2B || byte == 0x2E || byte == 0x5F || byte == 0x2D
            if isAlnum {
                previousWasSeparator = false
            } else if isSeparator && !previousWasSeparator {
                previousWasSeparator = true
            } else {
                return false
            }
        }
        return !previousWasSeparator
    }
}

extension Digest: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
