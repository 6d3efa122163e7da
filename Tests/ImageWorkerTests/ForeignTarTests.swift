import Foundation
import ImageStore
import TestSupport
import Testing

/// Layers written by other tar programs, not by the Python of the fixtures: GNU tar in five
/// formats (sparse files in three of them, the old GNU 'S' entries umoci cannot read), bsdtar
/// in four and busybox tar. Each archive is imported, exported in every format, read back by the
/// kernel or GNU cpio, and must equal what GNU tar itself extracts from the same archive
/// (Tests/Fixtures/foreign/make-foreign.sh says what the tree holds).
@Suite("other programs' tar archives read back as GNU tar extracts them")
struct ForeignTarTests {
    static let archives = [
        "gnu-posix", "gnu-gnu", "gnu-oldgnu", "gnu-ustar", "gnu-v7", "bsd-default", "bsd-pax", "bsd-gnutar",
        "bsd-ustar", "busybox",
    ]
    /// The archives that store the 8 MiB file with two data blocks as a sparse entry.
    static let sparse: Set = ["gnu-posix", "gnu-gnu", "gnu-oldgnu", "bsd-default"]

    @Test(
        "the archive exports to ext4, erofs and cpio equal to GNU tar's extraction, entry by entry",
        .enabled(if: geteuid() == 0, "device nodes, owners, file capabilities and loop mounts need root"),
        arguments: archives)
    func exportsAsExtracted(_ archive: String) async throws {
        let scratch = try TemporaryDirectory(prefix: "foreign-\(archive)")
        defer { scratch.remove() }
        let fixture = scratch.url.appendingPathComponent("fixture")
        let script = FixtureImages.fixturesDirectory.appendingPathComponent("foreign/make-foreign.sh")
        try await ProcessRunner.check(script.path, [fixture.path, archive])
        let expected = try JSONDecoder().decode(
            [String: TreeNode].self, from: Data(contentsOf: fixture.appendingPathComponent("expected.json")))
        #expect(expected.count > 50, "the archive holds the tree: \(expected.count) entries")
        let data = scratch.url.appendingPathComponent("data").path
        // A registry that cannot answer: the image comes from the import alone.
        let name = "127.0.0.1:9/foreign/\(archive):latest"
        try await ProcessRunner.check(
            Child.imageWorker, ["import", fixture.appendingPathComponent("layout").path, "--name", name, "--data-dir", data])
        for format in [DiskFormat.ext4, .erofs, .cpio] {
            let disk = scratch.url.appendingPathComponent("disk.\(format.fileExtension)").path
            try await ProcessRunner.check(
                Child.imageWorker, ["export", name, "--format", format.rawValue, "-o", disk, "--data-dir", data])
            try await DiskReadback.verify(disk, format: format, expected: expected, scratch: scratch.url)
            if format == .ext4 && Self.sparse.contains(archive) {
                var info = stat()
                #expect(stat(disk, &info) == 0)
                // 3 MiB of random data and the metadata; the 8 MiB file's holes stay holes.
                #expect(Int(info.st_blocks) * 512 < 6 << 20, "ext4 allocates \(Int(info.st_blocks) * 512) bytes")
            }
        }
    }
}
