#if canImport(Glibc)
import Glibc
#endif

/// An OS/architecture pair with an optional variant, as in OCI index entries.
public struct Platform: Hashable, Sendable, Codable, CustomStringConvertible {
    /// e.g. `linux`.
    public var os: String
    /// GOARCH spelling: `amd64`, `arm64`, `arm`, `386`, `ppc64le`, `s390x`, `riscv64`.
    public var architecture: String
    /// e.g. `v7` for arm, `v8` for arm64.
    public var variant: String?

    enum CodingKeys: String, CodingKey {
        case os
        case architecture
        case variant
    }

    /// Creates a platform.
    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// Parses `os/arch[/variant]`.
    ///
    /// - Throws: `ReferenceError.invalidPlatform`.
    public init(parsing text: String) throws(ReferenceError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw .invalidPlatform(text)
        }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }

    /// `os/arch[/variant]`.
    public var description: String {
        [os, architecture, variant].compactMap { $0 }.joined(separator: "/")
    }

    /// The platform of this machine, in GOARCH spelling.
    public static var current: Platform {
        var name = utsname()
        uname(&name)
        let machine = withUnsafeBytes(of: &name.machine) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        switch machine {
        case "x86_64": return Platform(os: "linux", architecture: "amd64")
        case "aarch64", "arm64": return Platform(os: "linux", architecture: "arm64", variant: "v8")
        case "armv7l": return Platform(os: "linux", architecture: "arm", variant: "v7")
        case "i386", "i686": return Platform(os: "linux", architecture: "386")
        default: return Platform(os: "linux", architecture: machine)
        }
    }

    /// Whether an index entry for `candidate` can run where `self` is wanted.
    ///
    /// OS and architecture must be equal. The variant must be equal when both name one;
    /// `arm64` treats a missing variant as `v8`.
    public func matches(_ candidate: Platform) -> Bool {
        guard os == candidate.os, architecture == candidate.architecture else { return false }
        let wanted = normalizedVariant
        let offered = candidate.normalizedVariant
        guard let wanted, let offered else { return true }
        return wanted == offered
    }

    private var normalizedVariant: String? {
        if architecture == "arm64" { return variant ?? "v8" }
        return variant
    }
}
