import Foundation

/// The independent oracle of a layer stack: what `umoci raw unpack` (umoci 0.4.7, as root)
/// makes of the layers of one manifest, read by scantree.py.
///
/// umoci 0.4.7 reads OCI manifests only and no zstd, so the layers of any manifest (Docker
/// schema 2 included, a platform manifest of an index too) are rewrapped first into a
/// one-manifest OCI layout by Tests/Fixtures/hostile/make-layout.py: the same blobs (zstd ones
/// inflated by `zstd -dc`), OCI media types.
public enum UmociOracle {
    /// The tree of the layers of `manifestDigest` in the OCI layout `layout`.
    public static func tree(layout: URL, manifestDigest: String) async throws -> [String: TreeNode] {
        let scratch = try TemporaryDirectory(prefix: "umoci-oracle")
        defer { scratch.remove() }
        func blob(_ digest: String) -> URL {
            layout.appendingPathComponent("blobs/sha256/" + digest.dropFirst("sha256:".count))
        }
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: blob(manifestDigest))) as? [String: Any]
        guard let layers = manifest?["layers"] as? [[String: Any]], !layers.isEmpty else {
            throw TestSupportError.commandFailed(command: "read manifest \(manifestDigest)", status: 1, stderrTail: "no layers")
        }
        var files: [String] = []
        for (index, layer) in layers.enumerated() {
            let digest = layer["digest"] as? String ?? ""
            let mediaType = layer["mediaType"] as? String ?? ""
            if mediaType.hasSuffix("zstd") {
                // umoci 0.4.7 reads no zstd layer: hand it the tar `zstd -dc` gives.
                let tar = scratch.url.appendingPathComponent("layer\(index).tar")
                try await ProcessRunner.check("sh", ["-c", "zstd -dcq \"$0\" > \"$1\"", blob(digest).path, tar.path])
                files.append(tar.path)
                continue
            }
            let link = scratch.url.appendingPathComponent("layer\(index)" + (mediaType.contains("gzip") ? ".tar.gz" : ".tar"))
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: blob(digest))
            files.append(link.path)
        }
        let wrapped = scratch.url.appendingPathComponent("layout")
        let script = FixtureImages.fixturesDirectory.appendingPathComponent("hostile/make-layout.py")
        try await ProcessRunner.check(ProcessRunner.python, [script.path, wrapped.path] + files)
        let rootfs = scratch.url.appendingPathComponent("rootfs")
        try await ProcessRunner.check("umoci", ["raw", "unpack", "--image", wrapped.path + ":latest", rootfs.path])
        return try await FixtureImages.scanTree(rootfs)
    }
}
