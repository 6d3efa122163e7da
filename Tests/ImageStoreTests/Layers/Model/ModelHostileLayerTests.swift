import Foundation
import Testing

@testable import ImageStore

/// The hostile corpus (make-hostile.py), applied to the model. Nothing is ever written to
/// the host; writes through in-root symlinks now land inside the rootfs (`$S` stands for the
/// sentinel directory's path without its leading `/`, where an absolute symlink to it leads).
@Suite("Hostile layer corpus on the model")
struct ModelHostileLayerTests {
    private static let limits = LayerLimits(maxTotalBytes: 16 << 20, maxEntries: 1000, maxPathLength: 4096)

    static let corpus: [HostileCase] = [
        HostileCase(name: "dotdot-relative", outcome: .rejected("unsafePath", layer: 0, path: "../x")),
        HostileCase(name: "dotdot-nested", outcome: .rejected("unsafePath", layer: 0, path: "a/../../x")),
        HostileCase(name: "dotdot-inside", outcome: .rejected("unsafePath", layer: 0, path: "a/../b")),
        HostileCase(name: "absolute-contained", outcome: .contained([.content("etc/x", "inside")])),
        HostileCase(name: "absolute-escape", outcome: .rejected("unsafePath", layer: 0, path: "/../outside/x")),
        HostileCase(
            name: "symlink-to-sentinel-write", outcome: .contained([.type("link", "l"), .content("$S/file", "evil")])),
        HostileCase(name: "symlink-to-root-write", outcome: .contained([.type("link", "l"), .content("$S/planted", "evil")])),
        HostileCase(name: "symlink-to-dotdot-write", outcome: .contained([.type("link", "l"), .content("planted", "evil")])),
        HostileCase(name: "symlink-lower-layer-write", outcome: .contained([.type("link", "l"), .content("$S/file", "evil")])),
        HostileCase(name: "symlink-loop", outcome: .rejected("symlinkLoop", layer: 0, path: "a/x")),
        HostileCase(name: "hardlink-etc-passwd", outcome: .rejected("invalidHardlink", layer: 0, path: "x")),
        HostileCase(name: "hardlink-dotdot", outcome: .rejected("invalidHardlink", layer: 0, path: "x")),
        HostileCase(name: "hardlink-through-symlink", outcome: .rejected("invalidHardlink", layer: 0, path: "x")),
        HostileCase(name: "hardlink-to-directory", outcome: .rejected("invalidHardlink", layer: 0, path: "x")),
        HostileCase(name: "whiteout-dotdot", outcome: .rejected("unsafePath", layer: 0, path: ".wh...")),
        HostileCase(name: "whiteout-dot", outcome: .rejected("unsafePath", layer: 0, path: "a/.wh..")),
        HostileCase(name: "whiteout-through-symlink", outcome: .contained([.type("link", "l"), .absent("$S")])),
        HostileCase(name: "opaque-on-symlink", outcome: .contained([.type("link", "l"), .type("$S", "d")])),
        HostileCase(name: "device-through-symlink", outcome: .contained([.type("etc", "l"), .type("$S/null", "c")])),
        HostileCase(name: "sparse-10gib", outcome: .rejected("limitExceeded", layer: 0, path: "big")),
        HostileCase(name: "gzip-bomb", outcome: .rejected("limitExceeded", layer: 0, path: "bomb")),
        HostileCase(name: "too-many-entries", outcome: .rejected("limitExceeded", layer: 0, path: "f1000")),
        HostileCase(name: "truncated-entry", outcome: .rejected("corruptArchive", layer: 0, path: "cut")),
        HostileCase(name: "garbage", outcome: .rejected("notATar", layer: 0, path: "not a tar archive")),
        HostileCase(name: "truncated-gzip", outcome: .rejected("corruptArchive", layer: 0, path: "")),
        HostileCase(name: "long-path", outcome: .rejected("limitExceeded", layer: 0, path: "p/xxxx")),
        HostileCase(name: "uid-out-of-range", outcome: .rejected("invalidEntry", layer: 0, path: "f")),
        HostileCase(name: "root-replaced-by-symlink", outcome: .rejected("unsafePath", layer: 0, path: "./")),
        HostileCase(
            name: "symlink-replaced-by-dir", outcome: .contained([.type("d", "d"), .content("d/file", "inside")])),
        HostileCase(
            name: "absolute-symlink-parent", outcome: .contained([.type("lib", "l"), .content("$S/sub/evil.so", "evil")])),
        HostileCase(name: "fifo-over-dir", outcome: .contained([.type("d", "p"), .absent("d/a"), .absent("d/sub")])),
        HostileCase(name: "hardlink-to-symlink", outcome: .contained([.type("x", "l"), .type("link", "l")])),
        HostileCase(name: "opaque-with-symlink-child", outcome: .contained([.type("d", "d"), .absent("d/link")])),
        HostileCase(name: "whiteout-symlink-to-sentinel", outcome: .contained([.absent("s")])),
        HostileCase(name: "dir-over-symlink", outcome: .contained([.type("s", "d"), .mode("s", 0o777)])),
        HostileCase(name: "long-symlink-target", outcome: .rejected("limitExceeded", layer: 0, path: "l")),
        HostileCase(name: "hardlink-to-whiteout", outcome: .rejected("invalidHardlink", layer: 1, path: "x")),
        HostileCase(name: "whiteout-as-directory", outcome: .rejected("unsafePath", layer: 0, path: "a/.wh.b/c")),
        HostileCase(name: "file-over-symlink", outcome: .contained([.type("s", "f"), .content("s", "evil")])),
    ]

    @Test("a hostile layer is rejected or contained in the model, and nothing is created on the host", arguments: corpus)
    func hostile(_ testCase: HostileCase) throws {
        let scratch = try LayerScratch()
        let layers = try scratch.layers(testCase.name)
        let before = try scratch.outsideSnapshot()
        let sink = MemorySink()
        let builder = LayerModelBuilder(sink: sink, limits: ModelHostileLayerTests.limits)
        var thrown: LayerError?
        do {
            for layer in layers { try builder.apply(layer) }
        } catch let error as LayerError {
            thrown = error
        }
        #expect(try scratch.outsideSnapshot() == before, "something outside the model changed")
        switch testCase.outcome {
        case .rejected(let kind, let layer, let path):
            let error = try #require(thrown, "expected \(kind), the layer was applied")
            #expect(HostileCase.caseName(error) == kind, "\(error)")
            #expect(error.kind == .permanent)
            #expect(error.description.contains(LayerScratch.digest(layer).description), "\(error)")
            if !path.isEmpty { #expect(error.description.contains(path), "\(error)") }
        case .contained(let checks):
            #expect(thrown == nil, "\(String(describing: thrown))")
            let tree = ModelSnapshot.take(builder.model, sink: sink)
            let sentinel = String(scratch.outside.path.drop { $0 == "/" })
            for check in checks {
                switch check {
                case .type(let path, let type):
                    let path = path.replacingOccurrences(of: "$S", with: sentinel)
                    #expect(tree[path]?.type == type, "\(path): \(String(describing: tree[path]))")
                case .absent(let path):
                    let path = path.replacingOccurrences(of: "$S", with: sentinel)
                    #expect(tree[path] == nil, "\(path) should be absent")
                case .content(let path, let text):
                    let path = path.replacingOccurrences(of: "$S", with: sentinel)
                    #expect(tree[path]?.content == Array(text.utf8), "\(path): \(tree.keys.sorted())")
                case .mode(let path, let mode): #expect(tree[path]?.mode == mode, "\(path)")
                }
            }
        }
    }
}
