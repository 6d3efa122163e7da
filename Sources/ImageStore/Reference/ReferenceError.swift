/// Why a string is not a usable image reference, digest or platform.
public enum ReferenceError: ClassifiedError, Equatable {
    /// The reference was empty.
    case empty
    /// The whole reference is longer than the distribution spec allows.
    case nameTooLong(reference: String, length: Int)
    /// A repository path component has uppercase letters.
    case uppercaseRepository(reference: String)
    /// A repository path component breaks the grammar `[a-z0-9]+((.|_|__|-+)[a-z0-9]+)*`.
    case invalidRepositoryComponent(reference: String, component: String)
    /// The registry host (or port) is malformed.
    case invalidRegistry(reference: String, registry: String)
    /// The tag breaks the grammar `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    case invalidTag(reference: String, tag: String)
    /// The digest is malformed: wrong length, non-hex characters, missing algorithm.
    case invalidDigest(digest: String, reason: String)
    /// The digest algorithm is well formed but not one we can verify.
    case unsupportedDigestAlgorithm(digest: String, algorithm: String)
    /// A platform string is not `os/arch[/variant]`.
    case invalidPlatform(String)

    /// Every reference error is permanent: the same text will never parse.
    public var kind: ErrorKind { .permanent }

    public var description: String {
        switch self {
        case .empty:
            return "invalid image name: the name is empty; give a reference such as alpine:3.20"
        case .nameTooLong(let reference, let length):
            return "invalid image name: \"\(reference)\" is \(length) characters, the limit is 255"
        case .uppercaseRepository(let reference):
            return "invalid image name: \"\(reference)\": repository names must be lowercase"
        case .invalidRepositoryComponent(let reference, let component):
            return "invalid image name: \"\(reference)\": path component \"\(component)\" must match "
                + "[a-z0-9]+ separated by '.', '_', '__' or '-'"
        case .invalidRegistry(let reference, let registry):
            return "invalid image name: \"\(reference)\": \"\(registry)\" is not a valid registry host[:port]"
        case .invalidTag(let reference, let tag):
            return "invalid image name: \"\(reference)\": tag \"\(tag)\" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
        case .invalidDigest(let digest, let reason):
            return "invalid image name: digest \"\(digest)\" is malformed: \(reason)"
        case .unsupportedDigestAlgorithm(let digest, let algorithm):
            return "invalid image name: digest \"\(digest)\" uses \(algorithm); only sha256 and sha512 are supported"
        case .invalidPlatform(let text):
            return "invalid platform \"\(text)\": expected os/arch[/variant], e.g. linux/arm64/v8"
        }
    }
}
