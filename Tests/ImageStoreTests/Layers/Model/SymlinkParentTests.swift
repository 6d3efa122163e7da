import Foundation
import Testing

@testable import ImageStore

/// Directory components through in-root symlinks (issue 10 item 5): the model equals what
/// `umoci unpack` makes of the same layers, entry by entry.
@Suite("Symlink parents resolve inside the rootfs, as umoci resolves them")
struct SymlinkParentTests {
    static let cases = [
        "symlink-parent-usrmerge", "symlink-parent-chain", "symlink-parent-missing-target", "symlink-parent-whiteout",
        "symlink-parent-hardlink",
    ]

    static let makeLayout = LayerScratch.script.deletingLastPathComponent().appendingPathComponent("make-layout.py")

    @Test("the model equals umoci's unpack", arguments: cases)
    func equalsUmoci(_ name: String) throws {
        let scratch = try LayerScratch()
        let layers = try scratch.layers(name)
        let (model, sink, _) = try scratch.model(name)

        let layout = scratch.base.appendingPathComponent("layout")
        let bundle = scratch.base.appendingPathComponent("bundle")
        try ShellCommand.run("python3", [SymlinkParentTests.makeLayout.path, layout.path] + layers.map(\.file.path))
        try ShellCommand.run("umoci", ["unpack", "--image", layout.path + ":latest", bundle.path])
        let umoci = RawTreeSnapshot.take(bundle.appendingPathComponent("rootfs"))

        let differences = ModelSnapshot.differences(host: umoci, model: ModelSnapshot.take(model, sink: sink))
        #expect(differences == [], "\(differences.joined(separator: "\n"))")
        #expect(umoci.count > 4)
    }

    @Test("lib -> usr/lib and bin -> /usr/bin write into usr, the symlinks stay")
    func usrMerge() throws {
        let scratch = try LayerScratch()
        let (model, sink, _) = try scratch.model("symlink-parent-usrmerge")
        let tree = ModelSnapshot.take(model, sink: sink)
        #expect(tree["usr/lib/x"]?.content == Array("x".utf8))
        #expect(tree["usr/bin/y"]?.content == Array("y".utf8))
        #expect(tree["usr/lib/sub"]?.mode == 0o700)
        #expect(tree["lib"]?.linkTarget == Array("usr/lib".utf8))
        #expect(tree["bin"]?.linkTarget == Array("/usr/bin".utf8))
    }

    @Test("a symlink loop is refused, naming the entry and the symlink")
    func loop() throws {
        let scratch = try LayerScratch()
        #expect(throws: LayerError.symlinkLoop(layer: LayerScratch.digest(0), path: "a/x", component: "b")) {
            _ = try scratch.model("symlink-loop")
        }
    }
}
