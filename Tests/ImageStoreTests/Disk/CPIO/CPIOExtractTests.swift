import Foundation
import Testing

@testable import ImageStore

extension CPUBound {
    /// Archives of random and hand-made models, extracted by bsdtar and GNU cpio and compared with
    /// the model entry by entry. Seeds are fixed; each test case writes and checks 10 trees.
    @Suite("CPIOWriter archives extract as the model")
    final class CPIOExtractTests {
        let scratch: DiskScratch

        init() throws {
            scratch = try DiskScratch()
        }

        private func check(_ image: EXT4TestImage, label: String) throws {
            for extractor in CPIOReadBack.Extractor.allCases {
                let target = scratch.url("x-\(extractor)-\(UUID().uuidString)")
                try CPIOReadBack.extract(image.path, with: extractor, into: target)
                let problems = try CPIOReadBack.differences(extracted: target.path, image: image, extractor: extractor)
                #expect(problems == [], "\(label), \(extractor)")
                try FileManager.default.removeItem(at: target)
            }
        }

        @Test("random trees read back equal through bsdtar -x and cpio -idm", arguments: 0..<6)
        func randomTrees(batch: Int) throws {
            for seed in UInt64(batch * 10)..<UInt64(batch * 10 + 10) {
                let path = scratch.url("tree-\(seed).cpio")
                let image = try CPIOTestArchive.image(at: path)
                var tree = EXT4RandomTree(seed: seed, image: image, maxHole: 256 << 10)
                try tree.build(entries: 20 + Int(seed % 7) * 15)
                try image.finish()
                try check(image, label: "seed \(seed)")
                try FileManager.default.removeItem(at: path)
            }
        }

        @Test("hand-made trees read back equal", arguments: [EXT4TreeCase.everyKind, .oddTimes, .oddNames, .hardlinks, .deletedAndReplaced, .manyEntries])
        func cases(_ treeCase: EXT4TreeCase) throws {
            let path = scratch.url("\(treeCase).cpio")
            let image = try CPIOTestArchive.image(at: path)
            try treeCase.build(image)
            try image.finish()
            try check(image, label: "\(treeCase)")
        }
    }
}
