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

    func run() async throws {
        let image: PulledImage
        do {
            let name = try ImageReference(parsing: name)
            let platform = try platform.map { try Platform(parsing: $0) } ?? .current
            let store = try ContentStore(layout: global.layout)
            let importer = ImageImporter(store: store, scratch: global.layout.scratch)
            image = try await importer.importImage(
                from: URL(fileURLWithPath: source), tag: tag, as: name, platform: platform)
        } catch {
            throw ExitCode.reporting(error)
        }
        try InspectReport(image).print(json: global.json) {
            "\($0.reference) \($0.digest) platform \($0.platform), \($0.layers.count) layers"
        }
    }
}
