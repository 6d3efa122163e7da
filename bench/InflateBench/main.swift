// inflate-bench: times reading one layer blob, as docs/bench.md ("Inflate") reports it.
//
//   inflate-bench inflate MEDIATYPE FILE        inflate only (isa-l / libzstd), diff_id hashed
//   inflate-bench tar MEDIATYPE FILE            every tar entry and data block through ArchiveReader,
//                                               inflating on the calling thread
//   inflate-bench tar-threaded MEDIATYPE FILE   the same, inflating on its own thread (InflatePipe)
//
// Prints one JSON line: wall and CPU seconds (user + system), bytes, entries, diff_id.
import Foundation
import ImageStore

#if canImport(Glibc)
    import Glibc
#endif

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
}

let arguments = CommandLine.arguments
guard arguments.count == 4, ["inflate", "tar", "tar-threaded"].contains(arguments[1]) else {
    FileHandle.standardError.write(Data("usage: inflate-bench inflate|tar|tar-threaded MEDIATYPE FILE\n".utf8))
    exit(64)
}
let file = URL(fileURLWithPath: arguments[3])
let layer = LayerSource(
    digest: Digest(sha256Hex: String(repeating: "0", count: 64)), mediaType: arguments[2], file: file)
let clock = ContinuousClock()
let cpuStart = cpuSeconds()
let start = clock.now
do {
    let result =
        switch arguments[1] {
        case "inflate": try LayerScan.inflate(layer)
        case "tar": try LayerScan.tar(layer, threaded: false)
        default: try LayerScan.tar(layer, threaded: true)
        }
    let wall = clock.now - start
    let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
    print(
        "{\"mode\":\"\(arguments[1])\",\"wall_s\":\(seconds),\"cpu_s\":\(cpuSeconds() - cpuStart),"
            + "\"bytes\":\(result.bytes),\"entries\":\(result.entries),\"diff_id\":\"\(result.diffID)\"}")
} catch {
    FileHandle.standardError.write(Data("inflate-bench: \(error)\n".utf8))
    exit(1)
}
