import ArgumentParser
import ImageStore

/// `image-worker usage`: the Go original's `TotalImageBytes` and `TotalOCICacheBytes`.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Print the bytes ready disks and the blob cache take on disk (allocated, each file once).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        let manager = try await global.openManager(registry: registry)
        let (images, cache) = try await reportingErrors {
            (try await manager.totalImageBytes(), try await manager.totalOCICacheBytes())
        }
        if global.json {
            try Output.json(["image_bytes": images, "oci_cache_bytes": cache])
        } else {
            Output.table(header: ["WHAT", "BYTES"], rows: [["images", "\(images)"], ["oci_cache", "\(cache)"]])
        }
    }
}
