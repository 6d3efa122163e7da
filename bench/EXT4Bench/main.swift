// ext4-writer-bench: times the native ext4 writer alone (no registry, no layers), on models
// built straight through the FilesystemModel API. Run by bench/ext4-writer.sh; see docs/bench.md.
//
//   ext4-writer-bench entries N OUT   N empty files in one directory
//   ext4-writer-bench file MIB OUT    one MIB MiB file of pseudo-random bytes, streamed in 1 MiB chunks
//
// Prints one JSON line: model build, data store and finish times in seconds, and peak RSS.
import Foundation
import ImageStore

#if canImport(Glibc)
    import Glibc
#endif

func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

let arguments = CommandLine.arguments
guard arguments.count == 4, let count = Int(arguments[2]), count >= 0 else {
    FileHandle.standardError.write(Data("usage: ext4-writer-bench entries N OUT | file MIB OUT\n".utf8))
    exit(64)
}
let output = arguments[3]
let options = EXT4WriterOptions(uuid: Array(repeating: 1, count: 16), hashSeed: Array(repeating: 2, count: 16))
let clock = ContinuousClock()
do {
    let start = clock.now
    let writer = try EXT4Writer(path: output, options: options)
    let model = FilesystemModel()
    switch arguments[1] {
    case "entries":
        let directory = model.insert(Inode(kind: .directory, permissions: 0o755), named: Array("many".utf8), in: .root)
        for index in 0..<count {
            let content = try writer.sink.store(size: 0) { _ in }
            model.insert(Inode(kind: .regular, permissions: 0o644, content: content), named: Array("file-\(index)".utf8), in: directory)
        }
    case "file":
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        let size = Int64(count) << 20
        let content = try writer.sink.store(size: size) { body in
            for index in 0..<count {
                chunk.withUnsafeMutableBytes { raw in
                    let words = raw.bindMemory(to: UInt64.self)
                    for word in words.indices {
                        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                        words[word] = state
                    }
                }
                try chunk.withUnsafeBytes { try body(Int64(index) << 20, $0) }
            }
        }
        model.insert(Inode(kind: .regular, permissions: 0o644, size: size, content: content), named: Array("big".utf8), in: .root)
    default:
        FileHandle.standardError.write(Data("ext4-writer-bench: unknown mode \(arguments[1])\n".utf8))
        exit(64)
    }
    let stored = clock.now
    try writer.finish(model: model)
    let finished = clock.now
    print(
        "{\"mode\": \"\(arguments[1])\", \"count\": \(count), \"model_and_data_s\": \(seconds(stored - start)), "
            + "\"finish_s\": \(seconds(finished - stored)), \"total_s\": \(seconds(finished - start)), "
            + "\"peak_rss_mib\": \(peakRSSMiB())}")
} catch {
    FileHandle.standardError.write(Data("ext4-writer-bench: \(error)\n".utf8))
    exit(1)
}
