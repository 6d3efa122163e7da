import Foundation

@testable import ImageStore

/// Checks an image the erofs writer produced with other people's tools: `fsck.erofs
/// --extract` (erofs-utils 1.5) must accept it and extract exactly the model; the kernel must
/// mount it and show exactly the model (``EXT4ReadBack/differences(mounted:image:checks:)``).
enum EROFSReadBack {
    static let testOptions = EROFSWriterOptions(uuid: Array(0..<16), volumeName: Array("test".utf8))

    /// Runs `fsck.erofs --extract=DIR` into a fresh directory under `scratch` and returns the
    /// differences of the extracted tree from the model; throws when fsck fails.
    static func extractDifferences(_ image: EXT4TestImage, scratch: URL) throws -> [String] {
        let target = scratch.appendingPathComponent("extract-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: target) }
        let outcome = try ShellCommand.attempt("fsck.erofs", ["--extract=\(target.path)", image.path.path])
        guard outcome.status == 0 else {
            throw ShellCommand.Failure(command: "fsck.erofs --extract \(image.path.path)", status: outcome.status, output: outcome.output)
        }
        return try EXT4ReadBack.differences(mounted: target.path, image: image, checks: .erofsExtract)
    }

    /// `fsck.erofs --extract` without a target: every file decodes (for trees too large to
    /// extract quickly); throws when fsck fails.
    static func verify(_ image: EXT4TestImage) throws {
        try ShellCommand.run("fsck.erofs", ["--extract", image.path.path])
    }

    /// Mounts the image read-only and returns the differences from the model.
    static func mountDifferences(_ image: EXT4TestImage, scratch: URL) throws -> [String] {
        try EXT4ReadBack.withMount(image.path, scratch: scratch, type: "erofs") {
            try EXT4ReadBack.differences(mounted: $0, image: image, checks: .erofsMount)
        }
    }

    /// Both read-backs.
    static func differences(_ image: EXT4TestImage, scratch: URL) throws -> [String] {
        try extractDifferences(image, scratch: scratch).map { "extract: \($0)" }
            + mountDifferences(image, scratch: scratch).map { "mount: \($0)" }
    }
}
