import ArgumentParser
import Foundation
import ImageStore

/// `image-worker export REF -o FILE`: pull, apply and export in the foreground, no queue.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Pull an image and write its disk file in the foreground (no queue row).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var registry: RegistryOptions

    @Argument(help: "Image reference, e.g. alpine:3.20.")
    var reference: String

    @Option(help: "Disk format: \(DiskFormat.spelledOut) (erofs-layers: the layer disks go to the data directory's layers/, the JSON list of them to -o).")
    var format: String = "ext4"

    @Option(name: .shortAndLong, help: "Output file.")
    var output: String

    @Option(help: "cpio compression: none, gzip or zstd.")
    var compression: String = "none"

    @Flag(
        inversion: .prefixedNo,
        help: "ext4, erofs: append a dm-verity hash tree after the filesystem (default: on; never for cpio).")
    var verity: Bool?

    func validate() throws {
        guard DiskFormat(rawValue: format) != nil else { throw ValidationError("format \(format): use \(DiskFormat.spelledOut)") }
        guard let compression = ExportOptions.Compression(rawValue: compression) else {
            throw ValidationError("compression \(compression): use none, gzip or zstd")
        }
        if format != "cpio" && compression != .none { throw ValidationError("--compression applies to cpio only") }
        if format == "cpio" && verity == true { throw ValidationError("--verity applies to ext4 and erofs only") }
        try OutputPath.validate(output)
    }

    func run() async throws {
        let progress = ProgressRenderer(enabled: !global.json)
        let options = ExportOptions(
            compression: ExportOptions.Compression(rawValue: compression) ?? .none, verity: verity ?? true)
        let builder = try await reportingErrors { try global.openBuilder(registry: registry, exportOptions: options) }
        let result: ExportResult
        do {
            let image = try ImageReference(parsing: reference)
            let format = DiskFormat(rawValue: format) ?? .ext4
            let output = URL(fileURLWithPath: output)
            result = try await cancellingOnInterrupt {
                try await builder.exportImage(image, format: format, to: output) { progress.handle($0) }
            }
            progress.finish()
        } catch {
            progress.finish()
            throw ExitCode.reporting(error)
        }
        if global.json {
            var document = ["path": result.path, "allocated_bytes": "\(result.allocatedBytes)"]
            if let verity = result.verity {
                document["verity_root_hash"] = verity.rootHash
                document["verity_salt"] = verity.salt
                document["verity_hash_offset"] = "\(verity.hashOffset)"
            }
            if let layers = result.layers {
                document["layers"] = "\(layers.count)"
                document["layers_converted"] = "\(layers.filter(\.converted).count)"
            }
            try Output.json(document)
        } else {
            Output.line("wrote \(result.path) (\(result.allocatedBytes) bytes allocated) in \(result.duration)")
            if let verity = result.verity {
                Output.line("verity root hash \(verity.rootHash), salt \(verity.salt), hash offset \(verity.hashOffset)")
            }
            for (index, layer) in (result.layers ?? []).enumerated() {
                Output.line("layer \(index) \(layer.diffID): \(layer.path) (\(layer.converted ? "converted" : "reused"))")
            }
        }
    }
}
