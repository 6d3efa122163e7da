/// The OCI image configuration document (the blob a manifest's `config` names).
public struct ImageConfiguration: Hashable, Sendable, Codable {
    public var architecture: String?
    public var os: String?
    public var variant: String?
    /// How to run the image; absent in some minimal images.
    public var config: ImageConfig?
    public var rootfs: RootFS?

    /// The layer diff IDs (digests of the uncompressed tars).
    public struct RootFS: Hashable, Sendable, Codable {
        public var type: String
        public var diffIDs: [Digest]

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }
}

/// How to run an image: the `config` object of the OCI image configuration, kept with the
/// spec's key names (`Entrypoint`, `Cmd`, `Env`, …). This is what the `config_json` column holds.
public struct ImageConfig: Hashable, Sendable, Codable {
    public var entrypoint: [String]?
    public var cmd: [String]?
    /// `KEY=value` entries in image order; entries without `=` are kept as given.
    public var env: [String]?
    public var workingDir: String?
    public var user: String?
    public var labels: [String: String]?
    /// Port specs such as `80/tcp`, sorted.
    public var exposedPorts: [String]?
    public var stopSignal: String?

    enum CodingKeys: String, CodingKey {
        case entrypoint = "Entrypoint"
        case cmd = "Cmd"
        case env = "Env"
        case workingDir = "WorkingDir"
        case user = "User"
        case labels = "Labels"
        case exposedPorts = "ExposedPorts"
        case stopSignal = "StopSignal"
    }

    /// Creates a config.
    public init(entrypoint: [String]? = nil, cmd: [String]? = nil, env: [String]? = nil,
                workingDir: String? = nil, user: String? = nil, labels: [String: String]? = nil,
                exposedPorts: [String]? = nil, stopSignal: String? = nil) {
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.env = env
        self.workingDir = workingDir
        self.user = user
        self.labels = labels
        self.exposedPorts = exposedPorts
        self.stopSignal = stopSignal
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        entrypoint = try container.decodeIfPresent([String].self, forKey: .entrypoint)
        cmd = try container.decodeIfPresent([String].self, forKey: .cmd)
        env = try container.decodeIfPresent([String].self, forKey: .env)
        workingDir = try container.decodeIfPresent(String.self, forKey: .workingDir)
        user = try container.decodeIfPresent(String.self, forKey: .user)
        labels = try container.decodeIfPresent([String: String].self, forKey: .labels)
        stopSignal = try container.decodeIfPresent(String.self, forKey: .stopSignal)
        // The spec encodes ports as a map to empty objects: {"80/tcp": {}}.
        let ports = try container.decodeIfPresent([String: EmptyObject].self, forKey: .exposedPorts)
        exposedPorts = ports.map { $0.keys.sorted() }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(entrypoint, forKey: .entrypoint)
        try container.encodeIfPresent(cmd, forKey: .cmd)
        try container.encodeIfPresent(env, forKey: .env)
        try container.encodeIfPresent(workingDir, forKey: .workingDir)
        try container.encodeIfPresent(user, forKey: .user)
        try container.encodeIfPresent(labels, forKey: .labels)
        try container.encodeIfPresent(stopSignal, forKey: .stopSignal)
        if let exposedPorts {
            let map = Dictionary(uniqueKeysWithValues: exposedPorts.map { ($0, EmptyObject()) })
            try container.encode(map, forKey: .exposedPorts)
        }
    }

    private struct EmptyObject: Codable, Hashable {}

    /// The command the image runs: entrypoint followed by cmd.
    public var effectiveCommand: [String] { (entrypoint ?? []) + (cmd ?? []) }

    /// Whether the image wants systemd as init (the Go original's `IsSystemdImage`).
    public var isSystemdImage: Bool {
        ImageConfig.isSystemdImage(entrypoint: entrypoint ?? [], cmd: cmd ?? [])
    }

    /// `true` when the effective command (entrypoint + cmd) starts with `/sbin/init`,
    /// `/lib/systemd/systemd` or `/usr/lib/systemd/systemd`. Whether systemd is installed in
    /// the image does not matter: the command decides.
    public static func isSystemdImage(entrypoint: [String], cmd: [String]) -> Bool {
        guard let program = (entrypoint + cmd).first else { return false }
        return ["/sbin/init", "/lib/systemd/systemd", "/usr/lib/systemd/systemd"].contains(program)
    }
}
