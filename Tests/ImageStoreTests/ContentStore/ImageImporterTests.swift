import Foundation
import TestSupport
import Testing

@testable import ImageStore

@Suite("Import from a local OCI layout")
final class ImageImporterTests {
    let scratch: TemporaryDirectory

    init() throws {
        scratch = try TemporaryDirectory(prefix: "import")
    }

    deinit { scratch.remove() }

    @Test("picks the platform from an index and keeps both digests")
    func multiArch() async throws {
        let expected = try ExpectedDigests(try await FixtureImages.expected("multiarch"), platform: "linux/arm64")
        let store = try ContentStore(root: scratch.url.appendingPathComponent("oci"))
        let importer = ImageImporter(store: store, scratch: scratch.url.appendingPathComponent("tmp"))
        let name = try ImageReference(parsing: "local/multiarch:1")
        let image = try await importer.importImage(
            from: try await FixtureImages.layout("multiarch"), tag: "latest", as: name,
            platform: Platform(os: "linux", architecture: "arm64"))
        #expect(image.indexDigest?.description == expected.index)
        #expect(image.manifestDigest.description == expected.manifest)
        #expect(image.layers.map(\.descriptor.digest.description) == expected.layers)
        try await expectStoreHolds(image, in: store)
    }

    @Test("a corrupt layer fails with digestMismatch and is not stored")
    func corruptLayer() async throws {
        let source = scratch.url.appendingPathComponent("layout")
        try FileManager.default.copyItem(at: try await FixtureImages.layout("multilayer"), to: source)
        let expected = try ExpectedDigests(try await FixtureImages.expected("multilayer"))
        let layer = try Digest(parsing: try #require(expected.layers.first))
        let file = source.appendingPathComponent("blobs/sha256/\(layer.encoded)")
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: file)

        let store = try ContentStore(root: scratch.url.appendingPathComponent("oci"))
        let importer = ImageImporter(store: store, scratch: scratch.url.appendingPathComponent("tmp"))
        do {
            _ = try await importer.importImage(from: source, tag: nil, as: try ImageReference(parsing: "local/bad:1"))
            Issue.record("expected digestMismatch")
        } catch let error as ContentStoreError {
            guard case .digestMismatch(_, let wanted, let actual) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(wanted == layer)
            #expect(actual != layer)
        }
        #expect(!store.has(layer))
        #expect(try store.indexEntries().isEmpty)
    }
}
