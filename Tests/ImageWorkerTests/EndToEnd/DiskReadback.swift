import Foundation
import ImageStore
import TestSupport
import Testing

/// Reads a finished disk back with independent tools and compares the tree with the fixture's
/// expected.json (`FixtureImages.scanTree` gives the same format for a directory).
enum DiskReadback {
    /// Checks `disk`: ext4 `e2fsck -fn` clean and loop-mounted read-only; erofs `fsck.erofs`
    /// clean and mounted; cpio extracted with GNU cpio. The tree must equal `expected`, minus
    /// ext4's `lost+found` and, for cpio (newc carries no xattrs), the xattrs.
    static func verify(
        _ disk: String, format: DiskFormat, expected: [String: TreeNode], scratch: URL
    ) async throws {
        let work = scratch.appendingPathComponent("readback-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        switch format {
        case .ext4:
            try await ProcessRunner.check("e2fsck", ["-fn", disk])
            var tree = try await mounted(disk, type: "ext4", at: work)
            tree.removeValue(forKey: "lost+found")
            #expect(tree == expected, "ext4 \(disk): \(difference(tree, expected))")
        case .erofs:
            try await ProcessRunner.check("fsck.erofs", [disk])
            let tree = try await mounted(disk, type: "erofs", at: work)
            #expect(tree == expected, "erofs \(disk): \(difference(tree, expected))")
        case .cpio:
            try await ProcessRunner.check(
                "sh", ["-c", "cd \"$0\" && cpio -idm --no-absolute-filenames --quiet < \"$1\"", work.path, disk])
            let tree = try await FixtureImages.scanTree(work)
            let withoutXattrs = try stripXattrs(expected)
            #expect(tree == withoutXattrs, "cpio \(disk): \(difference(tree, withoutXattrs))")
        case .erofsLayers:
            let tree = try await overlaid(disk, at: work)
            #expect(tree == expected, "erofs-layers \(disk): \(difference(tree, expected))")
        }
    }

    /// An erofs-layers list: every layer disk `fsck.erofs` clean and loop-mounted read-only,
    /// the mounts stacked as overlayfs lower directories (last layer uppermost), the merged view
    /// scanned; everything unmounted again.
    static func overlaid(_ list: String, at work: URL) async throws -> [String: TreeNode] {
        let layers = try #require(ArtifactLayer.list(json: String(decoding: try Data(contentsOf: URL(fileURLWithPath: list)), as: UTF8.self)))
        var mounts: [String] = []
        func unmountAll() async {
            for mountPoint in mounts.reversed() { _ = try? await ProcessRunner.run("umount", [mountPoint]) }
        }
        do {
            var lowers: [String] = []
            for (index, layer) in layers.enumerated() {
                try await ProcessRunner.check("fsck.erofs", [layer.path])
                let mountPoint = work.appendingPathComponent("layer-\(index)")
                try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
                try await ProcessRunner.check("mount", ["-t", "erofs", "-o", "loop,ro", layer.path, mountPoint.path])
                mounts.append(mountPoint.path)
                lowers.insert(mountPoint.path, at: 0)
            }
            let merged = work.appendingPathComponent("merged")
            try FileManager.default.createDirectory(at: merged, withIntermediateDirectories: true)
            // A lower-only overlay needs two directories; one layer is bind-mounted as it is.
            if lowers.count == 1 {
                try await ProcessRunner.check("mount", ["--bind", "-o", "ro", lowers[0], merged.path])
            } else {
                try await ProcessRunner.check(
                    "mount", ["-t", "overlay", "overlay", "-o", "ro,lowerdir=" + lowers.joined(separator: ":"), merged.path])
            }
            mounts.append(merged.path)
            let tree = try await FixtureImages.scanTree(merged)
            await unmountAll()
            return tree
        } catch {
            await unmountAll()
            throw error
        }
    }

    /// Loop-mounts `disk` read-only under `work`, scans it, unmounts.
    private static func mounted(_ disk: String, type: String, at work: URL) async throws -> [String: TreeNode] {
        let mountPoint = work.appendingPathComponent("mnt")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        try await ProcessRunner.check("mount", ["-t", type, "-o", "loop,ro", disk, mountPoint.path])
        do {
            let tree = try await FixtureImages.scanTree(mountPoint)
            try await ProcessRunner.check("umount", [mountPoint.path])
            return tree
        } catch {
            _ = try? await ProcessRunner.run("umount", [mountPoint.path])
            throw error
        }
    }

    /// `tree` with every node's `xattrs` removed.
    private static func stripXattrs(_ tree: [String: TreeNode]) throws -> [String: TreeNode] {
        let object = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(tree)) as? [String: [String: Any]])
        let stripped = object.mapValues { $0.filter { $0.key != "xattrs" } }
        return try JSONDecoder().decode(
            [String: TreeNode].self, from: JSONSerialization.data(withJSONObject: stripped))
    }

    /// The first few paths that differ, for a readable failure.
    private static func difference(_ actual: [String: TreeNode], _ expected: [String: TreeNode]) -> String {
        let paths = Set(actual.keys).union(expected.keys).filter { actual[$0] != expected[$0] }.sorted()
        return paths.prefix(5).map { path in
            "\(path): got \(String(describing: actual[path])), want \(String(describing: expected[path]))"
        }.joined(separator: "; ")
    }
}

/// The fixtures pushed to the suite's registry (`TestRegistry.current`) as `e2e/<fixture>:<tag>`,
/// each push once per registry.
actor PushedImages {
    static let shared = PushedImages()
    private var pushed: Set<String> = []

    /// `127.0.0.1:PORT/e2e/<fixture>:<tag>`, pushing the fixture under that tag first.
    func reference(_ fixture: String, tag: String = "v1") async throws -> String {
        let registry = try #require(TestRegistry.current, "run inside @Suite(.registry(.plain))")
        let key = "\(registry.hostPort)/e2e/\(fixture):\(tag)"
        if !pushed.contains(key) {
            let layout = try await FixtureImages.layout(fixture)
            try await registry.push(layout: layout, repository: "e2e/\(fixture)", tag: tag)
            pushed.insert(key)
        }
        return key
    }

    /// `127.0.0.1:PORT/e2e/<fixture>@<top-level digest>` (pushing under `v1` first).
    func digestReference(_ fixture: String) async throws -> String {
        let tagged = try await reference(fixture)
        let expected = try await FixtureImages.expected(fixture)
        let digest = try #require(expected.indexDigest ?? expected.manifestDigest)
        return tagged.replacingOccurrences(of: ":v1", with: "@\(digest)")
    }

    /// The manifest a linux/amd64 worker converts, and its expected tree.
    static func converted(_ fixture: String) async throws -> (manifestDigest: String, tree: [String: TreeNode]) {
        let expected = try await FixtureImages.expected(fixture)
        if let platform = expected.platforms?["linux/amd64"] { return (platform.manifestDigest, platform.tree) }
        return (try #require(expected.manifestDigest), try #require(expected.tree))
    }
}
