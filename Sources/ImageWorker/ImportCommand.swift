import ArgumentParser
import Foundation
import ImageStore

/// `image-worker import DIR|FILE.tar --name NAME`: import a local OCI layout or oci-archive.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import an OCI image layout directory or oci-archive tarball into the content store.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "An OCI layout directory (skopeo copy … oci:DIR:TAG) or an oci-archive tar file.")
    var source: String

    @Option(name: .customLong("name"), help: "The name to record the image under, e.g. local/app:1.")
    var name: String

    @Option(name: .customLong("tag"), help: "The ref.name to pick when the layout holds several images.")
    var tag: String?

    @Option(name: .customLong("platform"), help: "os/arch[/variant] to choose from a multi-platform image.")
    var platform: String?

    @Flag(help: "Also ask for the image by digest (the seed's ImportLocalImage): a worker converts it with no registry.")
    var enqueue = false

    @Option(help: "With --enqueue: disk format, \(DiskFormat.spelledOut).")
    var format = "ext4"

    @Option(help: "With --enqueue: larger runs first.")
    var priority = 0

    func run() async throws {
        let manager = try await global.openManager()
        let source = URL(fileURLWithPath: source)
        let platform: Platform? = try await reportingErrors { try self.platform.map { try Platform(parsing: $0) } }
        if enqueue {
            let image = try await reportingErrors {
                try await manager.importLocalImage(
                    from: source, as: name, tag: tag, platform: platform, format: format, priority: priority)
            }
            if global.json {
                try Output.json(image)
            } else {
                Output.line(SafeText.escaping("imported \(name) as \(image.name): \(image.status.rawValue), id \(image.id)\(image.queuePosition.map { ", queue position \($0)" } ?? "")"))
            }
            return
        }
        let image = try await reportingErrors {
            try await manager.importImage(from: source, as: name, tag: tag, platform: platform)
        }
        try InspectReport(image).print(json: global.json) {
            "\($0.reference) \($0.digest) platform \($0.platform), \($0.layers.count) layers"
        }
    }
}
