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

    @Option(name: .customLong("erofs-level"), help: "erofs only: lz4hc level 0...12 (0 or none: 9).")
    var erofsLevel: Int?

    @Flag(name: .customLong("erofs-uncompressed"), help: "erofs only: store files uncompressed.")
    var erofsUncompressed = false

    @Flag(
        inversion: .prefixedNo,
        help: "ext4, erofs: append a dm-verity hash tree after the filesystem (default: on; never for cpio).")
    var verity: Bool?

    @Option(name: .shortAndLong, help: "The disk file to write.")
    var output: String

    func validate() throws {
        if format == .cpio && verity == true { throw ValidationError("--verity applies to ext4 and erofs only") }
        guard format.isSingleDisk else { throw ValidationError("erofs-layers needs an image's layers; a tree becomes ext4, erofs or cpio") }
        try OutputPath.validate(output)
        do {
            try options.validate(for: format)
        } catch {
            throw ValidationError(error.description)
        }
    }

    private var options: ExportOptions {
        ExportOptions(
            compression: compression, erofsCompressed: !erofsUncompressed, erofsLevel: erofsLevel,
            verity: verity ?? true)
    }

    func run() async throws {
        let result: ExportResult
        do {
            let (rootfs, output, format, options) =
                (URL(fileURLWithPath: directory), URL(fileURLWithPath: output), format, options)
            result = try await cancellingOnInterrupt {
                try await DiskExporter().export(rootfs: rootfs, format: format, to: output, options: options)
            }
        } catch {
            throw ExitCode.reporting(error)
        }
        let seconds =
            Double(result.duration.components.seconds)
            + Double(result.duration.components.attoseconds) / 1e18
        if global.json {
            var document: [String: Any] = [
                "allocated_bytes": result.allocatedBytes, "apparent_bytes": result.apparentBytes,
                "duration_seconds": seconds, "format": format.rawValue, "path": result.path,
            ]
            if let verity = result.verity {
                document["verity_root_hash"] = verity.rootHash
                document["verity_salt"] = verity.salt
                document["verity_hash_offset"] = verity.hashOffset
            }
            let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(
                "\(result.path)\t\(format.rawValue)\t\(result.apparentBytes) bytes (\(result.allocatedBytes) allocated)\t"
                    + String(format: "%.2f s", seconds)
                    + (result.verity.map { "\tverity \($0.rootHash) salt \($0.salt) offset \($0.hashOffset)" } ?? ""))
        }
    }
}

extension DiskFormat: ExpressibleByArgument {}
extension ExportOptions.Compression: ExpressibleByArgument {}
