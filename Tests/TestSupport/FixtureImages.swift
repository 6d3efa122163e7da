import Foundation

/// The offline test images built by Tests/Fixtures/make-fixtures.sh into Tests/Fixtures/out/.
///
/// Names: `multilayer` (gzip), `multilayer-zstd`, `multilayer-uncompressed`,
/// `multilayer-docker`, `multiarch`, `multiarch-docker`, `systemd` (cmd `/sbin/init`), and
/// `large` (200 MiB, built on demand).
public enum FixtureImages {
    /// Tests/Fixtures in the source tree.
    public static let fixturesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    /// Tests/Fixtures/out.
    public static let outputDirectory = fixturesDirectory.appendingPathComponent("out")

    /// The OCI layout directory of fixture `name`, running make-fixtures.sh first (once per
    /// process; it skips work when up to date; `large` adds `--large`).
    public static func layout(_ name: String) async throws -> URL {
        try await Builder.shared.ensureBuilt(large: name == "large")
        return outputDirectory.appendingPathComponent(name)
    }

    /// The decoded expected.json of fixture `name`.
    public static func expected(_ name: String) async throws -> ExpectedImage {
        let url = try await layout(name).appendingPathComponent("expected.json")
        return try JSONDecoder().decode(ExpectedImage.self, from: Data(contentsOf: url))
    }

    /// The tree of an unpacked root filesystem in expected.json's format, read with lstat by
    /// Tests/Fixtures/scantree.py. Compare with `ExpectedImage.tree` by `==`.
    public static func scanTree(_ root: URL) async throws -> [String: TreeNode] {
        let result = try await ProcessRunner.check(
            ProcessRunner.python, [fixturesDirectory.appendingPathComponent("scantree.py").path, root.path])
        return try JSONDecoder().decode([String: TreeNode].self, from: result.stdout)
    }

    private actor Builder {
        static let shared = Builder()
        private var built: Set<Bool> = []

        func ensureBuilt(large: Bool) async throws {
            guard !built.contains(large) else { return }
            let script = fixturesDirectory.appendingPathComponent("make-fixtures.sh").path
            try await ProcessRunner.check("bash", [script] + (large ? ["--large"] : []))
            built.insert(large)
        }
    }
}

/// expected.json: what a correct unpack of a fixture yields. See docs/fixtures.md.
public struct ExpectedImage: Sendable, Decodable {
    public let format: Int
    public let image: String
    /// Media type of the top-level manifest or index.
    public let mediaType: String
    /// Single-manifest images: the manifest, config, layer digests and diff IDs.
    public let manifestDigest: String?
    public let configDigest: String?
    public let layerDigests: [String]?
    public let diffIDs: [String]?
    /// Single-manifest images: the merged tree, path (relative, no leading slash) → node.
    public let tree: [String: TreeNode]?
    /// Index images: the index digest and, per "os/arch", the same fields as above.
    public let indexDigest: String?
    public let platforms: [String: PlatformImage]?
}

/// One platform's image inside an index fixture.
public struct PlatformImage: Sendable, Decodable {
    public let manifestDigest: String
    public let configDigest: String
    public let layerDigests: [String]
    public let diffIDs: [String]
    public let tree: [String: TreeNode]
}

/// One entry of a merged tree.
public struct TreeNode: Sendable, Codable, Equatable {
    /// `file`, `dir`, `symlink`, `fifo`, `char`, `block` (scans may also report `socket`).
    public let type: String
    /// Permission bits including setuid (0o4000), setgid (0o2000), sticky (0o1000).
    public let mode: Int
    public let uid: Int
    public let gid: Int
    /// Files: byte size and lowercase hex SHA-256 of the content.
    public let size: Int?
    public let sha256: String?
    /// Symlinks: the target as stored.
    public let target: String?
    /// Hardlinked files: group number shared by all names of one inode.
    public let link: Int?
    /// Devices: major and minor numbers.
    public let devMajor: Int?
    public let devMinor: Int?
    /// Extended attributes, name → base64 value.
    public let xattrs: [String: String]?
    /// Base64 of the raw path bytes when the path is not valid UTF-8 (the key then shows `\xNN`).
    public let rawPath: String?
}

extension TreeNode {
    /// Equality, or equality of everything but ``xattrs`` when `ignoringXattrs` (a cpio
    /// archive cannot carry them; `fsck.erofs --extract` of erofs-utils 1.5 does not restore them).
    public func matches(_ other: TreeNode, ignoringXattrs: Bool) -> Bool {
        guard ignoringXattrs else { return self == other }
        return type == other.type && mode == other.mode && uid == other.uid && gid == other.gid && size == other.size
            && sha256 == other.sha256 && target == other.target && link == other.link && devMajor == other.devMajor
            && devMinor == other.devMinor && rawPath == other.rawPath
    }

    /// The differences between two trees (`""` and `"."`, the root, ignored), one line per path.
    public static func differences(
        expected: [String: TreeNode], actual: [String: TreeNode], ignoringXattrs: Bool = false
    ) -> [String] {
        Set(expected.keys).union(actual.keys).subtracting(["", "."]).sorted().compactMap { path in
            switch (expected[path], actual[path]) {
            case (let want?, let got?) where want.matches(got, ignoringXattrs: ignoringXattrs): return nil
            case (let want, let got):
                return "\(path): expected \(want.map { "\($0)" } ?? "nothing"), found \(got.map { "\($0)" } ?? "nothing")"
            }
        }
    }
}
