import Foundation
import Testing

@testable import ImageStore

/// The layer semantics (whiteouts, opaque directories, hardlinks, replacement, metadata,
/// names, compression) as hand-written expectations on the model the layers build: nothing is
/// written to the host.
@Suite("Layer semantics on the model")
struct LayerSemanticsTests {
    let scratch: LayerScratch

    init() throws {
        scratch = try LayerScratch()
    }

    /// The model of make-hostile.py case `name` as a path → node table.
    private func tree(_ name: String) throws -> [String: FileNode] {
        let (model, sink, _) = try scratch.model(name)
        return ModelSnapshot.take(model, sink: sink)
    }

    private func names(_ tree: [String: FileNode]) -> Set<String> { Set(tree.keys) }

    @Test("a whiteout removes the lower entry, whole directories included, and never appears itself")
    func whiteout() throws {
        #expect(names(try tree("sem-whiteout")) == [".", "a", "a/f2"])
    }

    @Test("an opaque marker hides lower children wherever it sits in the tar", arguments: ["sem-opaque-first", "sem-opaque-last"])
    func opaque(_ name: String) throws {
        let tree = try tree(name)
        #expect(names(tree) == [".", "d", "d/new", "d/sub", "d/sub/new2", "keep"])
        #expect(tree["d/sub/new2"]?.content == Array("n2".utf8))
    }

    @Test("whiteouts never remove entries of their own layer, only the lower children under them")
    func sameLayer() throws {
        let tree = try tree("sem-whiteout-same-layer")
        #expect(names(tree) == [".", "d", "d/g", "f"])
        #expect(tree["f"]?.content == Array("same".utf8))
    }

    @Test("a whiteout works without an entry for its parent; a missing parent is not created, an opaque one is")
    func noParentEntry() throws {
        #expect(names(try tree("sem-whiteout-no-parent-entry")) == [".", "p", "p/q", "p/q/keep", "opq"])
    }

    @Test("hardlinks reach this and lower layers and keep the inode they were made from")
    func hardlinks() throws {
        let tree = try tree("sem-hardlinks")
        #expect(RawTreeSnapshot.inodeGroups(tree) == [["f1", "h1", "h3"]])
        #expect(tree["h2"]?.content == Array("B".utf8))
        #expect(tree["f2"]?.content == Array("C".utf8))
        #expect(tree["f1"]?.links == 3)
        #expect(tree["h2"]?.links == 1)
    }

    @Test("a directory replaced by a file and back; a directory over a directory keeps children and takes metadata")
    func replacement() throws {
        let tree = try tree("sem-replace")
        #expect(names(tree) == [".", "x", "y", "y/c", "s"])
        #expect(tree["x"]?.type == "f")
        #expect(tree["x"]?.content == Array("now a file".utf8))
        #expect(tree["y"]?.type == "d")
        #expect(tree["y"]?.mode == 0o700)
        #expect(tree["y"]?.uid == 5)
        #expect(tree["y"]?.gid == 6)
        #expect(tree["s"]?.type == "d")
    }

    @Test("owners, setuid/setgid/sticky, capabilities, devices, FIFOs, times, symlinks and odd names are exact")
    func metadata() throws {
        let (model, sink, statistics) = try scratch.model("sem-metadata")
        #expect(statistics.entries == 16)
        let tree = ModelSnapshot.take(model, sink: sink)
        let setuid = try #require(tree["bin/setuid"])
        #expect(setuid.mode == 0o4755 && setuid.uid == 1000 && setuid.gid == 1000)
        #expect(tree["shared"]?.mode == 0o2775 && tree["shared"]?.gid == 50)
        #expect(tree["tmp"]?.mode == 0o1777)
        let ping = try #require(tree["bin/ping"])
        #expect(ping.uid == 1000)
        let capability: [UInt8] = [1, 0, 0, 2, 0, 4, 0, 0] + [UInt8](repeating: 0, count: 12)
        #expect(ping.xattrs["security.capability"] == capability)
        #expect(ping.xattrs["user.note"] == Array("hello".utf8))
        #expect(tree["dev/null"].map { ($0.type, $0.rdevMajor, $0.rdevMinor, $0.mode) } ?? ("?", 0, 0, 0) == ("c", 1, 3, 0o666))
        #expect(tree["dev/sda"].map { ($0.type, $0.rdevMajor, $0.rdevMinor, $0.gid) } ?? ("?", 0, 0, 0) == ("b", 8, 0, 6))
        #expect(tree["run/fifo"]?.type == "p" && tree["run/fifo"]?.mode == 0o620)
        #expect(tree["times/file"].map { ($0.mtimeSeconds, $0.mtimeNanoseconds) } ?? (0, 0) == (1_600_000_000, 123_456_789))
        #expect(tree["times"].map { ($0.mtimeSeconds, $0.mtimeNanoseconds, $0.mode) } ?? (0, 0, 0) == (1_500_000_000, 500_000_000, 0o750))
        #expect(tree["."]?.mtimeSeconds == 1_700_000_000)
        #expect(tree["links/rel"]?.linkTarget == Array("../bin/setuid".utf8))
        #expect(tree["links/rel"].map { ($0.uid, $0.gid, $0.mtimeSeconds) } ?? (0, 0, 0) == (7, 8, 1_700_000_000))
        #expect(tree["links/abs"]?.linkTarget == Array("/etc/does-not-exist".utf8))
        #expect(tree["links/dotdot"]?.linkTarget == Array("../../../../outside".utf8))
        #expect(tree["names/caf\\xe9"]?.content == Array("latin1".utf8))
        #expect(tree["names/\u{e9}t\u{e9}"]?.content == Array("utf8".utf8))
        #expect(tree["names/\(String(repeating: "d", count: 150))/\(String(repeating: "f", count: 200))"]?.content == Array("long".utf8))
    }

    @Test("GNU long names and non-UTF-8 names survive byte for byte")
    func gnuNames() throws {
        let tree = try tree("sem-gnu-names")
        #expect(tree["gnu/caf\\xe9"]?.content == Array("gnu-latin1".utf8))
        #expect(tree["gnu/" + String(repeating: "n", count: 180)]?.content == Array("gnu-long".utf8))
    }

    @Test("gzip and zstd layers are read", arguments: [("sem-gzip", "z/gz", "gzip data"), ("sem-zstd", "z/zst", "zstd data")])
    func compressed(_ name: String, _ path: String, _ unit: String) throws {
        let (model, sink, statistics) = try scratch.model(name)
        #expect(ModelSnapshot.take(model, sink: sink)[path]?.content == Array(String(repeating: unit, count: 1000).utf8))
        #expect(statistics.bytes == Int64(unit.utf8.count * 1000))
    }

    @Test("a media type that is not a tar layer is refused before any disk file is made")
    func mediaType() async throws {
        let source = LayerSource(
            digest: LayerScratch.digest(1), mediaType: "application/vnd.oci.image.config.v1+json",
            file: scratch.tars.appendingPathComponent("none"))
        let output = scratch.base.appendingPathComponent("out/disk.erofs")
        await #expect(throws: LayerError.unsupportedMediaType(layer: LayerScratch.digest(1), mediaType: source.mediaType)) {
            try await DiskExporter().export(layers: [source], format: .erofs, to: output)
        }
        #expect(!FileManager.default.fileExists(atPath: output.deletingLastPathComponent().path))
    }
}

@Suite("Edge layers on the model")
struct LayerEdgeTests {
    @Test("a sparse file keeps its data at the right offset and its size")
    func sparse() throws {
        let scratch = try LayerScratch()
        let (model, sink, statistics) = try scratch.model("sem-sparse")
        var expected = [UInt8](repeating: 0, count: 1 << 20)
        expected.replaceSubrange(524_288..<524_800, with: [UInt8](repeating: 0x79, count: 512))
        #expect(ModelSnapshot.take(model, sink: sink)["holes"]?.content == expected)
        #expect(statistics.bytes == 1 << 20)
    }

    @Test("an empty gzip layer (an empty tar) applies and changes nothing")
    func empty() throws {
        let scratch = try LayerScratch()
        let (model, sink, statistics) = try scratch.model("sem-empty")
        #expect(statistics.entries == 0 && statistics.layers == 1)
        #expect(Set(ModelSnapshot.take(model, sink: sink).keys) == ["."])
    }
}
