import Foundation
import Testing

@testable import ImageStore

@Suite("LayerModelBuilder semantics")
struct LayerModelBuilderTests {
    let scratch: LayerScratch

    init() throws {
        scratch = try LayerScratch()
    }

    static let semanticCases = [
        "sem-whiteout", "sem-opaque-first", "sem-opaque-last", "sem-whiteout-same-layer", "sem-whiteout-no-parent-entry",
        "sem-hardlinks", "sem-replace", "sem-metadata", "sem-gnu-names", "sem-gzip", "sem-sparse", "sem-empty", "sem-zstd",
        "fifo-over-dir", "hardlink-to-symlink", "opaque-with-symlink-child", "whiteout-symlink-to-sentinel",
        "dir-over-symlink", "file-over-symlink", "symlink-replaced-by-dir", "absolute-contained",
    ]

    /// The semantic cases umoci 0.4.7 can judge: it reads no zstd layer, and it does not create
    /// the missing parent of an opaque marker (`sem-whiteout-no-parent-entry`, where the model
    /// creates it; `LayerSemanticsTests` holds that expectation).
    static let umociCases = semanticCases.filter { !["sem-zstd", "sem-whiteout-no-parent-entry"].contains($0) }

    @Test("the model equals the tree umoci unpacks from the same layers, entry by entry", arguments: umociCases)
    func equalsUmoci(_ name: String) throws {
        let layers = try scratch.layers(name)
        let (model, sink, statistics) = try scratch.model(name)
        let layout = scratch.base.appendingPathComponent("layout")
        let rootfs = scratch.base.appendingPathComponent("umoci-rootfs")
        try ShellCommand.run("python3", [SymlinkParentTests.makeLayout.path, layout.path] + layers.map(\.file.path))
        try ShellCommand.run("umoci", ["raw", "unpack", "--image", layout.path + ":latest", rootfs.path])
        let umoci = RawTreeSnapshot.take(rootfs)
        let differences = ModelSnapshot.differences(host: umoci, model: ModelSnapshot.take(model, sink: sink))
        #expect(differences == [], "\(differences.joined(separator: "\n"))")
        #expect(statistics.layers == layers.count)
    }

    @Test("a replaced or deleted file's content is released, a content still linked elsewhere is not")
    func releasesDeadContent() throws {
        // sem-hardlinks: f2 "B" is replaced by "C" while h2 still links "B"; nothing is dead.
        let (_, hardlinks, _) = try scratch.model("sem-hardlinks")
        #expect(hardlinks.released == [])
        // sem-whiteout: a/f1, b/x and c are whited out; sem-replace: x/child and y go.
        let (whiteoutModel, whiteouts, _) = try scratch.model("sem-whiteout")
        #expect(whiteouts.released.count == 3)
        #expect(whiteouts.contents.count == 1)
        #expect(ModelSnapshot.take(whiteoutModel, sink: whiteouts)["a/f2"]?.content == Array("2".utf8))
        let (_, replaced, _) = try scratch.model("sem-replace")
        #expect(replaced.released.count == 2)
        #expect(replaced.contents.count == 2)
    }

    @Test("a sparse entry reaches the sink as its data blocks only; the holes stay holes")
    func sparseKeepsHoles() throws {
        let (model, sink, statistics) = try scratch.model("sem-sparse")
        let snapshot = ModelSnapshot.take(model, sink: sink)
        let sparse = try #require(snapshot.values.first { $0.type == "f" })
        #expect(sparse.size > Int64(sink.dataBytes) * 4, "\(sparse.size) apparent, \(sink.dataBytes) stored")
        #expect(statistics.dataBytes == Int64(sink.dataBytes))
        #expect(statistics.bytes == sparse.size)
    }

    @Test("a cancelled build stops at the next entry")
    func cancellation() throws {
        let flag = CancellationFlag()
        flag.cancel()
        let builder = LayerModelBuilder(sink: MemorySink(), cancellation: flag)
        let layers = try scratch.layers("sem-whiteout")
        #expect(throws: CancellationError.self) { try builder.apply(layers[0]) }
    }

    @Test("a missing blob is a transient error naming the layer")
    func missingBlob() throws {
        let builder = LayerModelBuilder(sink: MemorySink())
        let source = LayerSource(
            digest: LayerScratch.digest(3), mediaType: MediaType.ociLayerGzip, file: scratch.tars.appendingPathComponent("none"))
        #expect(throws: LayerError.self) { try builder.apply(source) }
        do {
            try builder.apply(source)
        } catch let error as LayerError {
            #expect(error.kind.isTransient)
            #expect(error.description.contains(LayerScratch.digest(3).description))
        }
    }
}
