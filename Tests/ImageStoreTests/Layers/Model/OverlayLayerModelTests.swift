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

    private static let limits = LayerLimits(maxTotalBytes: 16 << 20, maxEntries: 1000, maxPathLength: 4096)
}
