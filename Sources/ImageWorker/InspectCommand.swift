import ArgumentParser
import Foundation
import ImageStore

/// `image-worker inspect REF`: resolve a reference and show its manifest and config.
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show an image's digests, platform, layers and config without downloading layers.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var registry: RegistryOptions

    @Argument(help: "Image reference, e.g. alpine:3.20 or localhost:5000/app@sha256:…")
    var reference: String

    func run() async throws {
        let image: PulledImage
        do {
            let reference = try ImageReference(parsing: reference)
            let puller = try registry.puller(layout: global.layout)
            image = try await puller.pull(reference, platform: try registry.resolvedPlatform(), includeLayers: false)
        } catch {
            throw ExitCode.reporting(error)
        }
        try InspectReport(image).print(json: global.json) { $0.text }
    }
}

/// What `inspect` prints; keys are snake_case.
struct InspectReport: Encodable {
    struct Layer: Encodable {
        var digest: String
        var size: Int64
        var mediaType: String

        enum CodingKeys: String, CodingKey {
            case digest, size
            case mediaType = "media_type"
        }
    }

    struct Config: Encodable {
        var entrypoint: [String]?
        var cmd: [String]?
        var env: [String]?
        var workingDir: String?
        var user: String?
        var labels: [String: String]?

        enum CodingKeys: String, CodingKey {
            case entrypoint, cmd, env, user, labels
            case workingDir = "working_dir"
        }
    }

    var reference: String
    var digest: String
    var indexDigest: String?
    var manifestDigest: String
    var platform: String
    var layers: [Layer]
    var config: Config

    enum CodingKeys: String, CodingKey {
        case reference, digest, platform, layers, config
        case indexDigest = "index_digest"
        case manifestDigest = "manifest_digest"
    }

    init(_ image: PulledImage) {
        reference = image.reference.description
        digest = image.resolvedDigest.description
        indexDigest = image.indexDigest?.description
        manifestDigest = image.manifestDigest.description
        platform = image.platform.description
        layers = image.manifest.layers.map { Layer(digest: $0.digest.description, size: $0.size, mediaType: $0.mediaType) }
        let source = image.configuration.config
        config = Config(
            entrypoint: source?.entrypoint, cmd: source?.cmd, env: source?.env, workingDir: source?.workingDir,
            user: source?.user, labels: source?.labels)
    }

    var text: String {
        var lines = [
            "reference:       \(reference)",
            "digest:          \(digest)",
            "index digest:    \(indexDigest ?? "-")",
            "manifest digest: \(manifestDigest)",
            "platform:        \(platform)",
            "entrypoint:      \(config.entrypoint.map { $0.joined(separator: " ") } ?? "-")",
            "cmd:             \(config.cmd.map { $0.joined(separator: " ") } ?? "-")",
            "workdir:         \(config.workingDir ?? "-")",
            "user:            \(config.user ?? "-")",
        ]
        for entry in config.env ?? [] { lines.append("env:             \(entry)") }
        for (key, value) in (config.labels ?? [:]).sorted(by: { $0.key < $1.key }) {
            lines.append("label:           \(key)=\(value)")
        }
        lines.append("layers:")
        for layer in layers { lines.append("  \(layer.digest)  \(layer.size)  \(layer.mediaType)") }
        return lines.joined(separator: "\n")
    }
}

extension InspectReport {
    /// Prints the report as JSON, or as the line `text` makes of it.
    func print(json: Bool, text: (InspectReport) -> String) throws {
        if json {
            try Output.json(self)
        } else {
            Output.line(text(self))
        }
    }
}
