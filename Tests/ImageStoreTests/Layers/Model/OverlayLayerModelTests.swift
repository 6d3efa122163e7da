import Foundation
import Testing

@testable import ImageStore

/// ``LayerModelBuilder/Mode/overlayLayer``: one layer alone, whiteouts as 0/0 character devices
/// and opaque directories with `trusted.overlay.opaque`, never merged with another layer.
@Suite("LayerModelBuilder, one layer as an overlayfs lower directory")
struct OverlayLayerModelTests {
    let scratch: LayerScratch

    init() throws {
        scratch = try LayerScratch()
    }

    /// The model of layer `index` of case `name`, alone.
    func layerModel(_ name: String, _ index: Int, limits: LayerLimits = .default) throws -> [String: FileNode] {
        let sink = MemorySink()
        let builder = LayerModelBuilder(sink: sink, limits: limits, mode: .overlayLayer)
        try builder.apply(try scratch.layers(name)[index])
        return ModelSnapshot.take(builder.model, sink: sink)
    }

    static func isWhiteout(_ node: FileNode?) -> Bool {
        node?.type == "c" && node?.rdevMajor == 0 && node?.rdevMinor == 0 && node?.xattrs == [:]
    }

    static let opaque = ["trusted.overlay.opaque": Array("y".utf8)]

    @Test("a whiteout becomes a 0/0 character device; the lower layer's files are not there")
    func whiteouts() throws {
        let upper = try layerModel("sem-whiteout", 1)
        #expect(upper.keys.sorted() == [".", "a", "a/f1", "b", "c"])
        for path in ["a/f1", "b", "c"] { #expect(Self.isWhiteout(upper[path]), "\(path): \(String(describing: upper[path]))") }
        #expect(upper["a"]?.type == "d" && upper["a"]?.xattrs == [:])
        let lower = try layerModel("sem-whiteout", 0)
        #expect(lower.keys.sorted() == [".", "a", "a/f1", "a/f2", "b", "b/x", "c"])
        #expect(lower["a/f1"]?.content == Array("1".utf8))
    }

    @Test("an opaque marker sets trusted.overlay.opaque wherever it sits in the tar", arguments: ["sem-opaque-first", "sem-opaque-last"])
    func opaque(_ name: String) throws {
        let upper = try layerModel(name, 1)
        #expect(upper.keys.sorted() == [".", "d", "d/new", "d/sub", "d/sub/new2"])
        #expect(upper["d"]?.xattrs == Self.opaque)
        #expect(upper["d/sub"]?.xattrs == [:], "only d is opaque")
        #expect(upper["d/new"]?.content == Array("n".utf8))
    }

    @Test("the layer's own entry wins over its whiteout of the same name; a directory is opaque then")
    func whiteoutSameLayer() throws {
        // Layer 1: f, .wh.f, d/, d/g, .wh.d (the merged model keeps f and d with g only).
        let upper = try layerModel("sem-whiteout-same-layer", 1)
        #expect(upper.keys.sorted() == [".", "d", "d/g", "f"])
        #expect(upper["f"]?.type == "f" && upper["f"]?.content == Array("same".utf8))
        #expect(upper["d"]?.xattrs == Self.opaque)
    }

    @Test("markers without a parent entry create the parent; an opaque marker's directory is made")
    func markersWithoutParents() throws {
        let upper = try layerModel("sem-whiteout-no-parent-entry", 1)
        #expect(upper.keys.sorted() == [".", "opq", "p", "p/q", "p/q/file", "zz", "zz/foo"])
        #expect(Self.isWhiteout(upper["p/q/file"]) && Self.isWhiteout(upper["zz/foo"]))
        #expect(upper["opq"]?.type == "d" && upper["opq"]?.xattrs == Self.opaque)
        #expect(upper["p/q"]?.mode == 0o755 && upper["p/q"]?.uid == 0)
    }

    @Test("writing below a name the layer whited out replaces the whiteout with an opaque directory")
    func writeBelowWhiteout() throws {
        let tree = try layerModel("overlay-write-below-whiteout", 0)
        #expect(tree.keys.sorted() == [".", "w", "w/inside", "x", "x/y"])
        #expect(tree["w"]?.type == "d" && tree["w"]?.xattrs == Self.opaque)
        #expect(tree["x/y"]?.type == "d" && tree["x/y"]?.xattrs == Self.opaque)
        #expect(tree["x"]?.xattrs == [:])
    }

    @Test("a layer's own trusted.overlay xattrs are dropped; other xattrs stay")
    func tarOverlayXattrsDropped() throws {
        let tree = try layerModel("overlay-tar-xattrs", 0)
        #expect(tree["d"]?.xattrs == ["user.keep": Array("k".utf8)])
    }

    @Test("the merged mode is unchanged: a whiteout removes, nothing becomes a device")
    func mergedUnchanged() throws {
        let (model, sink, _) = try scratch.model("sem-whiteout")
        let tree = ModelSnapshot.take(model, sink: sink)
        #expect(tree.keys.sorted() == [".", "a", "a/f2"])
    }

    @Test(
        "a hostile layer alone is refused exactly as the merged builder refuses it",
        arguments: ModelHostileLayerTests.corpus.filter {
            if case .rejected = $0.outcome { return true } else { return false }
        })
    func hostileRejected(_ testCase: HostileCase) throws {
        let layers = try scratch.layers(testCase.name)
        let before = try scratch.outsideSnapshot()
        guard case .rejected(let kind, let layerIndex, let path) = testCase.outcome else { return }
        var thrown: LayerError?
        for (index, layer) in layers.enumerated() {
            let builder = LayerModelBuilder(sink: MemorySink(), limits: Self.limits, mode: .overlayLayer)
            do {
                try builder.apply(layer)
            } catch let error as LayerError {
                #expect(index == layerIndex, "\(error)")
                thrown = error
                break
            }
        }
        let error = try #require(thrown, "expected \(kind), every layer was applied")
        #expect(HostileCase.caseName(error) == kind, "\(error)")
        #expect(error.kind == .permanent)
        if !path.isEmpty { #expect(error.description.contains(path), "\(error)") }
        #expect(try scratch.outsideSnapshot() == before, "something outside the model changed")
    }

    // MARK: - Hardlinks to lower layers (copy-up)

    /// The top layer of `name` alone over its lower layers merged, copied-up contents stored as
    /// the exporter stores them (lower bytes into the upper sink).
    func copyUpModel(_ name: String) throws -> [String: FileNode] {
        let layers = try scratch.layers(name)
        let lowerSink = MemorySink()
        let merged = LayerModelBuilder(sink: lowerSink)
        for layer in layers.dropLast() { try merged.apply(layer) }
        let sink = MemorySink()
        let builder = LayerModelBuilder(sink: sink, mode: .overlayLayer, lower: merged.model)
        try builder.apply(try #require(layers.last))
        for (content, uppers) in try #require(builder.copyUp).contentSources() {
            let bytes = lowerSink.bytes(content)
            let stored = try sink.store(size: Int64(bytes.count)) { body in try bytes.withUnsafeBytes { try body(0, $0) } }
            for upper in uppers {
                var inode = builder.model[upper]
                inode.content = stored
                builder.model[upper] = inode
            }
        }
        return ModelSnapshot.take(builder.model, sink: sink)
    }

    @Test("a hardlink to a lower file copies it up with its content, metadata and parents; the link shares the copy")
    func copyUp() throws {
        // Layer 2: data/l1 -> opt/t, data/l2 -> lib/other (lib -> opt, opt/other rewritten by
        // layer 1), data/l3 -> g/b (g/a and g/b one inode below), data/l4 -> /opt/t, g/.wh.a,
        // opt/own and data/l5 -> lib/own (its own file, through the lower symlink).
        let upper = try copyUpModel("copyup-link")
        #expect(
            upper.keys.sorted() == [
                ".", "data", "data/l1", "data/l2", "data/l3", "data/l4", "data/l5", "g", "g/a", "g/b", "opt", "opt/other",
                "opt/own", "opt/t",
            ])
        #expect(upper["data/l5"]?.inode == upper["opt/own"]?.inode && upper["opt/own"]?.content == Array("own".utf8))
        let target = try #require(upper["opt/t"])
        #expect(target.type == "f" && target.content == Array("lower t".utf8) && target.mode == 0o640)
        #expect(target.uid == 7 && target.gid == 8 && target.mtimeSeconds == 1_700_000_000 - 5)
        #expect(target.xattrs == ["user.tag": Array("lower".utf8)])
        #expect(upper["data/l1"]?.inode == target.inode && upper["data/l4"]?.inode == target.inode && target.links == 3)
        let opt = try #require(upper["opt"])
        #expect(opt.mode == 0o750 && opt.uid == 3 && opt.gid == 4 && opt.mtimeSeconds == 1_700_000_000 - 7)
        #expect(opt.xattrs == [:], "a copied-up parent is not opaque: the rest of the lower opt still shows")
        #expect(upper["opt/other"]?.content == Array("o2".utf8), "the final lower content, after layer 1 rewrote it")
        #expect(upper["data/l2"]?.inode == upper["opt/other"]?.inode)
        #expect(upper["g"]?.mode == 0o711)
        // g/a and g/b were one inode: both copied to one; the later whiteout of g/a removes
        // that name only, the link keeps the inode.
        #expect(Self.isWhiteout(upper["g/a"]))
        #expect(upper["g/b"]?.inode == upper["data/l3"]?.inode && upper["g/b"]?.links == 2)
        #expect(upper["g/b"]?.content == Array("group".utf8))
    }

    @Test("an opaque marker after the links hides the copied-up lower entries; the links keep their inodes")
    func copyUpThenOpaque() throws {
        let upper = try copyUpModel("copyup-opaque-after")
        #expect(upper.keys.sorted() == [".", "d", "d/mine", "l", "m"])
        #expect(upper["d"]?.xattrs == Self.opaque)
        #expect(upper["l"]?.content == Array("t".utf8) && upper["l"]?.links == 1)
        #expect(upper["m"]?.content == Array("v".utf8) && upper["m"]?.links == 1)
    }

    @Test("without its lower layers, a link to a lower file is refused and the builder says the lowers are needed")
    func linkWithoutLowers() throws {
        let builder = LayerModelBuilder(sink: MemorySink(), mode: .overlayLayer)
        #expect {
            try builder.apply(try scratch.layers("copyup-link")[2])
        } throws: { error in
            (error as? LayerError).map { HostileCase.caseName($0) == "invalidHardlink" && "\($0)".contains("data/l1") } ?? false
        }
        #expect(builder.needsLowerLayers)
    }

    @Test("over its lower layers, a link to a lower file the same layer whited out before is still refused")
    func linkAfterWhiteoutRefused() throws {
        // Layer 1: .wh.gone, then x -> gone.
        let layers = try scratch.layers("hardlink-to-whiteout")
        let merged = LayerModelBuilder(sink: MemorySink())
        try merged.apply(layers[0])
        let builder = LayerModelBuilder(sink: MemorySink(), mode: .overlayLayer, lower: merged.model)
        #expect {
            try builder.apply(layers[1])
        } throws: { error in
            guard case .invalidHardlink(_, let path, let target, let reason) = error as? LayerError else { return false }
            return path == "x" && target == "gone" && reason == "the target does not exist"
        }
    }

    private static let limits = LayerLimits(maxTotalBytes: 16 << 20, maxEntries: 1000, maxPathLength: 4096)
}
