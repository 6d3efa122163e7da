import ArgumentParser
import Foundation

/// The `-o FILE` of `export` and `export-tree`, checked before any work: a directory there
/// would fail only at the final rename, after the whole download and build.
enum OutputPath {
    /// - Throws: `ValidationError` (exit 64) when `path` is empty or names a directory.
    static func validate(_ path: String) throws {
        guard !path.isEmpty else { throw ValidationError("-o: name the disk file to write") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ValidationError("-o \(path) is a directory; name the disk file to write, e.g. \(path)/disk.img")
        }
    }
}
