import Foundation
import Testing

@testable import ImageStore

/// What a hostile case must end in.
enum HostileOutcome: Sendable {
    /// Rejected with this `LayerError` case, from the layer at `layer`, naming `path`.
    case rejected(String, layer: Int, path: String)
    /// Applied, and these checks hold inside the root.
    case contained([ContainedCheck])
}

/// A check on the root after a contained hostile case.
enum ContainedCheck: Sendable {
    case type(String, Character)
    case absent(String)
    case content(String, String)
    case mode(String, UInt32)
}

struct HostileCase: Sendable, CustomTestStringConvertible {
    let name: String
    let outcome: HostileOutcome
    var testDescription: String { name }
}

/// Small limits so that bombs are caught quickly.
private let corpusLimits = LayerLimits(maxTotalBytes: 16 << 20, maxEntries: 1000, maxPathLength: 4096)

@Suite("Hostile layer corpus")
struct HostileLayerTests {
    static let corpus: [HostileCase] = [
        HostileCase(name: "dotdot-relative", outcome: .rejected("unsafePath", layer: 0, path: "../x")),
        HostileCase(name: "dotdot-nested", outcome: .rejected("unsafePath", layer: 0, path: "a/../../x")),
        HostileCase(name: "dotdot-inside", outcome: .rejected("unsafePath", layer: 0, path: "a/../b")),
        HostileCase(name: "absolute-contained", outcome: .contained([.content("etc/x", "inside")])),
        HostileCase(name: "absolute-escape", outcome: .rejected("unsafePath", layer: 0, path: "/../outside/x")),
        HostileCase(name: "symlink-to-sentinel-write", outcome: .rejected("symlinkInPath", layer: 0, path: "link/file")),
        HostileCase(name: "symlink-to-root-write", outcome: .rejected("symlinkInPath", layer: 0, path: "/planted")),
        HostileCase(name: "symlink-to-dotdot-write", outcome: .rejected("symlinkInPath", layer: 0, path: "link/planted")),
        HostileCase(name: "symlink-lower-layer-write", outcome: .rejected("symlinkInPath", layer: 1, path: "link/file")),
        HostileCase(name: "symlink-loop", outcome: .rejected("symlinkInPath", layer: 0, path: "a/x")),
        HostileCase(name: "hardlink-etc-passwd", outcome: .rejected("invalidHardlink", layer: 0, path: "x")),
        HostileCase(name: "hardlink-dotdot", outcome: .rejected("invalidHardlink", layer: 0, path: "x")),
        HostileCase(name: "hardlink-through-symlink", outcome: .rejected("invalidHardlink", layer: 0, path: "x")),
        HostileCase(name: "hardlink-to-directory", outcome: .rejected("invalidHardlink", layer: 0, path: "x")),
        HostileCase(name: "whiteout-dotdot", outcome: .rejected("unsafePath", layer: 0, path: ".wh...")),
        HostileCase(name: "whiteout-dot", outcome: .rejected("unsafePath", layer: 0, path: "a/.wh..")),
        HostileCase(name: "whiteout-through-symlink", outcome: .rejected("symlinkInPath", layer: 1, path: "link/.wh.file")),
        HostileCase(name: "opaque-on-symlink", outcome: .rejected("symlinkInPath", layer: 1, path: "link/.wh..wh..opq")),
        HostileCase(name: "device-through-symlink", outcome: .rejected("symlinkInPath", layer: 1, path: "etc/null")),
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
            name: "symlink-replaced-by-dir",
            outcome: .contained([.type("d", "d"), .content("d/file", "inside")])),
        HostileCase(name: "absolute-symlink-parent", outcome: .rejected("symlinkInPath", layer: 1, path: "lib/evil.so")),
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

    @Test("a hostile layer is rejected or contained and nothing outside the root changes", arguments: corpus)
    func hostile(_ testCase: HostileCase) async throws {
        let scratch = try LayerScratch()
        let layers = try scratch.layers(testCase.name)
        let before = try scratch.outsideSnapshot()
        var thrown: LayerError?
        do {
            _ = try await LayerApplier(limits: corpusLimits).apply(layers: layers, to: scratch.root)
        } catch let error as LayerError {
            thrown = error
        }
        #expect(try scratch.outsideSnapshot() == before, "something outside the root changed")
        switch testCase.outcome {
        case .rejected(let kind, let layer, let path):
            let error = try #require(thrown, "expected \(kind), the layer was applied")
            #expect(HostileLayerTests.caseName(error) == kind, "\(error)")
            #expect(error.kind == .permanent)
            #expect(error.description.contains(LayerScratch.digest(layer).description), "\(error)")
            if !path.isEmpty { #expect(error.description.contains(path), "\(error)") }
        case .contained(let checks):
            #expect(thrown == nil, "\(String(describing: thrown))")
            let tree = scratch.tree()
            for check in checks {
                switch check {
                case .type(let path, let type): #expect(tree[path]?.type == type, "\(path): \(String(describing: tree[path]))")
                case .absent(let path): #expect(tree[path] == nil, "\(path) should be gone")
                case .content(let path, let text): #expect(tree[path]?.content == Array(text.utf8), "\(path)")
                case .mode(let path, let mode): #expect(tree[path]?.mode == mode, "\(path)")
                }
            }
        }
    }

    static func caseName(_ error: LayerError) -> String {
        String(String(describing: Mirror(reflecting: error).children.first?.label ?? "\(error)"))
    }
}
