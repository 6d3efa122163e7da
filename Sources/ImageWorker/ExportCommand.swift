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

    @Option(help: "Disk format: ext4, erofs or cpio.")
    var format: String = "ext4"

    @Option(name: .shortAndLong, help: "Output file.")
    var output: String

    @Option(help: "cpio compression: none, gzip or zstd.")
    var compression: String = "none"

    func validate() throws {
        guard DiskFormat(rawValue: format) != nil else { throw ValidationError("format \(format): use ext4, erofs or cpio") }
        guard let compression = ExportOptions.Compression(rawValue: compression) else {
            throw ValidationError("compression \(compression): use none, gzip or zstd")
        }
        if format != "cpio" && compression != .none { throw ValidationError("--compression applies to cpio only") }
    }

    func run() async throws {
        let progress = ProgressRenderer(enabled: !global.json)
        let options = ExportOptions(compression: ExportOptions.Compression(rawValue: compression) ?? .none)
        let manager = try await global.openManager(registry: registry, exportOptions: options)
        let result: ExportResult
        do {
            let image = try ImageReference(parsing: reference)
            result = try await manager.exportImage(
                image, format: DiskFormat(rawValue: format) ?? .ext4, to: URL(fileURLWithPath: output)
            ) { progress.handle($0) }
            progress.finish()
        } catch {
            progress.finish()
            throw ExitCode.reporting(error)
        }
        if global.json {
            try Output.json(["path": result.path, "allocated_bytes": "\(result.allocatedBytes)"])
        } else {
            Output.line("wrote \(result.path) (\(result.allocatedBytes) bytes allocated) in \(result.duration)")
        }
    }
}
