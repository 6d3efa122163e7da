import Foundation
import Testing

@testable import ImageStore

@Suite("EXT4Writer trees")
struct EXT4WriterTests {
    let scratch: URL

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ext4-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    @Test("each tree passes e2fsck -fn silently and mounts read-only as the model", arguments: EXT4TreeCase.allCases)
    func tree(_ treeCase: EXT4TreeCase) throws {
        defer { if ProcessInfo.processInfo.environment["EXT4_KEEP"] == nil { try? FileManager.default.removeItem(at: scratch) } }
        let image = try EXT4TestImage(path: scratch.appendingPathComponent("\(treeCase).ext4"))
        try treeCase.build(image)
        try image.finish()
        #expect(try EXT4ReadBack.fsck(image.path) == [])
        let problems = try EXT4ReadBack.withMount(image.path, scratch: scratch) {
            try EXT4ReadBack.differences(mounted: $0, image: image)
        }
        #expect(problems == [])
    }
}
