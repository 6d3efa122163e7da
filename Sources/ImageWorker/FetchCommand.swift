import ArgumentParser
import Foundation
import ImageStore

/// `image-worker fetch REF`: download an image into the shared content store.
struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download an image's manifest, config and layers into the content store (<data-dir>/oci).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var registry: RegistryOptions

    @Argument(help: "Image reference, e.g. alpine:3.20 or localhost:5000/app@sha256:…")
    var reference: String

    func run() async throws {
        let image: PulledImage
        let progress = ProgressRenderer(enabled: !global.json)
        do {
            let reference = try ImageReference(parsing: reference)
            let puller = try registry.puller(layout: global.layout)
            image = try await puller.pull(reference, platform: try registry.resolvedPlatform()) { event in
                progress.handle(event)
            }
            progress.finish()
        } catch {
            progress.finish()
            throw ExitCode.reporting(error)
        }
        try InspectReport(image).print(json: global.json) {
            "\($0.reference) \($0.digest) platform \($0.platform), \($0.layers.count) layers, "
                + "\(image.downloadedBlobs) blobs downloaded"
        }
    }
}
