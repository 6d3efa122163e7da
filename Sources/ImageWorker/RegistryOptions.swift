import ArgumentParser
import ImageStore

/// Registry connection options shared by `inspect` and `fetch`.
struct RegistryOptions: ParsableArguments {
    @Option(
        name: .customLong("insecure-registry"),
        help: ArgumentHelp(
            "Registry (host or host:port) spoken to over plain HTTP; repeatable. Loopback is insecure by default.",
            discussion: "Env IMAGE_WORKER_INSECURE_REGISTRIES (comma-separated)."))
    var insecureRegistries: [String] = []

    @Option(
        name: .customLong("registry-ca"),
        help: ArgumentHelp(
            "HOST=PATH: verify HOST's TLS certificate with the PEM bundle at PATH (implies HTTPS); repeatable.",
            discussion: "Env IMAGE_WORKER_REGISTRY_CA (comma-separated HOST=PATH)."))
    var registryCAs: [String] = []

    @Option(name: .customLong("platform"), help: "os/arch[/variant] to choose from a multi-platform image (default: this machine).")
    var platform: String?

    func validate() throws {
        for pair in registryCAs where RegistryConfiguration.parseCAOption(pair) == nil {
            throw ValidationError("--registry-ca expects HOST=PATH, got \"\(pair)\"")
        }
        if let platform {
            do {
                _ = try Platform(parsing: platform)
            } catch {
                throw ValidationError(error.description)
            }
        }
    }

    /// The platform asked for, or this machine's.
    func resolvedPlatform() throws -> Platform {
        guard let platform else { return .current }
        return try Platform(parsing: platform)
    }

    /// The environment's configuration with these options on top.
    func configuration() throws -> RegistryConfiguration {
        var configuration = try RegistryConfiguration.fromEnvironment()
        for host in insecureRegistries { configuration.insecureRegistries.insert(host.lowercased()) }
        for pair in registryCAs {
            if let (host, path) = RegistryConfiguration.parseCAOption(pair) { configuration.caFiles[host] = path }
        }
        return configuration
    }

    /// A puller over the content store of `layout` with these options.
    func puller(layout: DataLayout) throws -> ImagePuller {
        ImagePuller(client: RegistryClient(configuration: try configuration()), store: try ContentStore(layout: layout))
    }
}
