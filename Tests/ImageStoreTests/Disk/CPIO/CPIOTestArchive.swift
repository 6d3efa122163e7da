import Foundation

@testable import ImageStore

/// Builds a model through a ``CPIOWriter`` (the same ``EXT4TestImage`` helpers the ext4 tests
/// use), writes the archive and reads it back.
enum CPIOTestArchive {
    /// A fresh writer and model at `path`.
    static func image(at path: URL, options: CPIOWriterOptions = CPIOWriterOptions()) throws -> EXT4TestImage {
        EXT4TestImage(path: path, writer: try CPIOWriter(path: path.path, options: options))
    }

    /// The archive's bytes, decompressed if needed.
    static func bytes(of path: URL, compression: ExportOptions.Compression = .none) throws -> [UInt8] {
        switch compression {
        case .none:
            return [UInt8](try Data(contentsOf: path))
        case .gzip, .zstd:
            let bare = path.deletingLastPathComponent().appendingPathComponent(path.lastPathComponent + ".bare")
            let tool = compression == .gzip ? "gzip" : "zstd"
            let shell = "\(tool) -dc < '\(path.path)' > '\(bare.path)'"
            try ShellCommand.run("sh", ["-c", shell])
            defer { try? FileManager.default.removeItem(at: bare) }
            return [UInt8](try Data(contentsOf: bare))
        }
    }

    /// Names in the directory `directory` (for checking nothing but the output is left there).
    static func names(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }
}
