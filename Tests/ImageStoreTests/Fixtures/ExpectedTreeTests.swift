import Foundation
import TestSupport
import Testing

/// Proves the fixtures: expected.json matches what umoci unpacks, the fixture holds every
/// feature later stages test, and the variants carry the same layers.
@Suite("Fixture images")
struct ExpectedTreeTests {
    @Test("expected.json of multilayer equals the tree umoci unpacks")
    func matchesUmoci() async throws {
        let layout = try await FixtureImages.layout("multilayer")
        let expected = try #require(try await FixtureImages.expected("multilayer").tree)
        let scratch = try TemporaryDirectory(prefix: "umoci")
        defer { scratch.remove() }
        let rootfs = scratch.url.appendingPathComponent("rootfs")
        // `raw unpack`: umoci's config.json generation rejects the Env entry without '='.
        try await ProcessRunner.check("umoci", ["raw", "unpack", "--image", layout.path + ":latest", rootfs.path])
        let actual = try await FixtureImages.scanTree(rootfs)
        #expect(Set(actual.keys) == Set(expected.keys))
        for (path, node) in expected {
            #expect(actual[path] == node, "\(path)")
        }
    }

    @Test("multilayer holds every feature the unpack tests rely on")
    func features() async throws {
        let tree = try #require(try await FixtureImages.expected("multilayer").tree)
        #expect(tree["bin/busybox"]?.type == "file")
        #expect(tree["bin/sh"]?.target == "busybox")
        #expect(tree["etc/fixture-release"]?.type == "file")
        #expect(tree["opt/delete-me.txt"] == nil)  // .wh. whiteout
        #expect(tree["opt/opaque/old-a.txt"] == nil && tree["opt/opaque/old-sub"] == nil)  // opaque dir
        #expect(tree["opt/opaque/new-c.txt"]?.type == "file")
        #expect(tree["opt/gone-dir"] == nil && tree["opt/gone-dir/inner.txt"] == nil)
        #expect(tree["opt/dir2file"]?.type == "file" && tree["opt/dir2file/child.txt"] == nil)
        #expect(tree["opt/file2dir"]?.type == "dir" && tree["opt/file2dir/inside.txt"] != nil)
        let hard = try #require(tree["data/hard-a.txt"]?.link)
        #expect(tree["data/hard-b.txt"]?.link == hard)
        #expect(tree["data/link-to-lower.txt"]?.link == tree["opt/lower-target.txt"]?.link)
        #expect(tree["data/rel-link"]?.target == "../etc/fixture-release")
        #expect(tree["data/abs-link"]?.target == "/etc/passwd")
        #expect(tree["usr/bin/suid-tool"]?.mode == 0o4755)
        #expect(tree["srv/setgid-dir"]?.mode == 0o2775)
        #expect(tree["srv/sticky"]?.mode == 0o1777)
        #expect(tree["dev/fixture-fifo"]?.type == "fifo")
        #expect(tree["dev/fixture-null"].map { [$0.type, "\($0.devMajor ?? -1),\($0.devMinor ?? -1)"] } == ["char", "1,3"])
        #expect(tree["dev/fixture-loop0"].map { [$0.type, "\($0.devMajor ?? -1),\($0.devMinor ?? -1)"] } == ["block", "7,0"])
        #expect(tree["home/user"].map { [$0.uid, $0.gid] } == [1000, 1000])
        #expect(tree["home/user/notes.txt"].map { [$0.uid, $0.gid] } == [1000, 1000])
        #expect(tree["data/cap-file"]?.xattrs?["security.capability"] == "AQAAAgAgAAAAAAAAAAAAAAAAAAA=")
        #expect(tree["data/user-xattr.txt"]?.xattrs?["user.fixture"] != nil)
        #expect(tree["data/name with spaces.txt"] != nil && tree["data/ünïcødé-名前.txt"] != nil)
        #expect(tree.values.contains { $0.rawPath != nil })
        #expect(tree.keys.contains { $0.utf8.count > 100 })
        #expect(tree["data/random-4m.bin"]?.size == 4 << 20)
    }

    @Test(
        "compressed, uncompressed and docker variants carry the same layer tars",
        arguments: [("multilayer", "gzip"), ("multilayer-zstd", "zstd"), ("multilayer-uncompressed", "cat"),
                    ("multilayer-docker", "gzip")])
    func variantsDecompressToDiffIDs(name: String, decompressor: String) async throws {
        let layout = try await FixtureImages.layout(name)
        let expected = try await FixtureImages.expected(name)
        let reference = try await FixtureImages.expected("multilayer")
        #expect(expected.diffIDs == reference.diffIDs)
        #expect(expected.tree == reference.tree)
        for (layer, diffID) in zip(expected.layerDigests ?? [], expected.diffIDs ?? []) {
            let blob = layout.appendingPathComponent("blobs/sha256/" + layer.dropFirst("sha256:".count)).path
            let command = decompressor == "cat" ? "cat '\(blob)'" : "\(decompressor) -dc '\(blob)'"
            let result = try await ProcessRunner.check("bash", ["-o", "pipefail", "-c", command + " | sha256sum"])
            #expect("sha256:" + result.output.prefix(64) == diffID)
        }
    }

    @Test("rebuilding gives the same digests")
    func reproducible() async throws {
        let expected = try await FixtureImages.expected("multilayer")
        let scratch = try TemporaryDirectory(prefix: "rebuild")
        defer { scratch.remove() }
        try await ProcessRunner.check(
            ProcessRunner.python,
            [FixtureImages.fixturesDirectory.appendingPathComponent("mkimage.py").path, scratch.url.path])
        let data = try Data(contentsOf: scratch.url.appendingPathComponent("multilayer/expected.json"))
        let rebuilt = try JSONDecoder().decode(ExpectedImage.self, from: data)
        #expect(rebuilt.manifestDigest == expected.manifestDigest)
        #expect(rebuilt.layerDigests == expected.layerDigests)
    }
}
