import ArgumentParser
import Foundation
import ImageStore

/// `image-worker export-tree`: turns an existing directory tree into a disk file.
///
/// For operators and for the QEMU boot check's initramfs builder; the worker itself exports
/// through ImageManager.
struct ExportTreeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-tree",
        abstract: "Turn a directory tree into an ext4, erofs or cpio (initramfs) disk file.",
        discussion: """
            The tree is read, never changed; owners, modes, times, hard links, device nodes and \
            (ext4, erofs) xattrs are kept. The output is written to a temp file beside it and \
            renamed into place. Run as root to read every file of a rootfs.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The directory whose content becomes the disk's root.")
    var directory: String

    @Option(help: "ext4, erofs or cpio.")
    var format: DiskFormat

    @Option(help: "cpio only: none, gzip or zstd.")
    var compression: ExportOptions.Compression = .none

    @Option(name: .customLong("erofs-level"), help: "erofs only: lz4hc level 0...12.")
    var erofsLevel: Int?

    @Flag(name: .customLong("erofs-uncompressed"), help: "erofs only: store files uncompressed.")
    var erofsUncompressed = false

    @Option(name: .shortAndLong, help: "The disk file to write.")
    var output: String

    func validate() throws {
        do {
            try options.validate(for: format)
        } catch {
            throw ValidationError(error.description)
        }
    }

    private var options: ExportOptions {
        ExportOptions(compression: compression, erofsCompressed: !erofsUncompressed, erofsLevel: erofsLevel)
    }

    func run() async throws {
        let result: ExportResult
        do {
            result = try await DiskExporter().export(
                rootfs: URL(fileURLWithPath: directory), format: format, to: URL(fileURLWithPath: output),
                options: options)
        } catch is CancellationError {
            throw ExitCode(130)
        } catch {
            FileHandle.standardError.write(Data("image-worker: \(SafeText.escaping("\(error)"))\n".utf8))
            throw ExitCode(ErrorKind.of(error).isTransient ? 75 : 1)
        }
        let seconds =
            Double(result.duration.components.seconds)
            + Double(result.duration.components.attoseconds) / 1e18
        if global.json {
            let document: [String: Any] = [
                "allocated_bytes": result.allocatedBytes, "apparent_bytes": result.apparentBytes,
                "duration_seconds": seconds, "format": format.rawValue, "path": result.path,
            ]
            let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(
                "\(result.path)\t\(format.rawValue)\t\(result.apparentBytes) bytes (\(result.allocatedBytes) allocated)\t"
                    + String(format: "%.2f s", seconds))
        }
    }
}

extension DiskFormat: ExpressibleByArgument {}
extension ExportOptions.Compression: ExpressibleByArgument {}
