import ArgumentParser
import Foundation
import ImageStore
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Options every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .customLong("data-dir"),
        help: "Data directory (env IMAGE_WORKER_DATA; default /var/lib/image-worker).")
    var dataDir: String?

    @Option(
        name: .customLong("db"),
        help: "SQLite database path, or a postgres://… / postgresql://… URL (env IMAGE_WORKER_DB; default <data-dir>/image-worker.db).")
    var database: String?

    @Option(
        name: .customLong("host-id"),
        help: ArgumentHelp(
            "This host's id in a fleet sharing one database (env IMAGE_WORKER_HOST_ID; default: the hostname on PostgreSQL, the local host on SQLite).",
            discussion: "Workers claim rows whose target_host is NULL or this id; disks, their sharing, delete, gc and usage are per host id. Give every host its own id and its own data directory."))
    var hostID: String?

    @Option(
        name: .customLong("scratch-dir"),
        help: ArgumentHelp(
            "Where layer trees are unpacked while a disk is built (env IMAGE_WORKER_SCRATCH; default <data-dir>/tmp).",
            discussion: "A dedicated directory on a tmpfs (e.g. /dev/shm/image-worker) skips disk writes of the tree; it needs RAM for the largest unpacked image."))
    var scratchDir: String?

    @Option(
        name: .customLong("disk-group"),
        help: ArgumentHelp(
            "Group (name or gid) that may read finished disks, e.g. the VM manager's (env IMAGE_WORKER_DISK_GROUP).",
            discussion: "Without it only the worker's user reads them: data dir and disks/ 0700, disks 0600. With it the data dir is 0710, disks/ 0750 and disks 0640 of that group; oci/ and tmp/ stay 0700."))
    var diskGroup: String?

    @Flag(name: .customLong("json"), help: "Print one JSON document on stdout.")
    var json = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error.")
    var logLevel: Logger.Level = .info

    /// The data layout these options name.
    var layout: DataLayout {
        DataLayout(
            root: dataDir.map { URL(fileURLWithPath: $0) } ?? DataLayout.defaultRoot,
            diskGroup: diskGroupName.flatMap(Self.groupID))
    }

    /// `--disk-group`, or `$IMAGE_WORKER_DISK_GROUP`.
    var diskGroupName: String? {
        if let diskGroup { return diskGroup }
        if let env = ProcessInfo.processInfo.environment["IMAGE_WORKER_DISK_GROUP"], !env.isEmpty { return env }
        return nil
    }

    func validate() throws {
        if let name = diskGroupName, Self.groupID(name) == nil {
            throw ValidationError("--disk-group: no group \"\(name)\" on this host")
        }
        if let host = explicitHostID {
            do { try ImageQueue.validateTargetHost(host) } catch { throw ValidationError("--host-id: \(error)") }
        }
    }

    /// `--host-id`, or `$IMAGE_WORKER_HOST_ID`; `nil` when neither is given.
    var explicitHostID: String? {
        if let hostID { return hostID }
        if let env = ProcessInfo.processInfo.environment["IMAGE_WORKER_HOST_ID"], !env.isEmpty { return env }
        return nil
    }

    /// The host id this process acts as: the explicit one, else the backend's default
    /// (``ImageQueue/defaultHost(for:)``).
    var resolvedHostID: String { explicitHostID ?? ImageQueue.defaultHost(for: databasePath) }

    /// The gid of a group name or number.
    static func groupID(_ name: String) -> gid_t? {
        if let number = gid_t(name) { return number }
        guard let entry = getgrnam(name) else { return nil }
        return entry.pointee.gr_gid
    }

    /// The tree scratch directory: `--scratch-dir`, `$IMAGE_WORKER_SCRATCH`, or nil (the layout's).
    var treeScratch: URL? {
        if let scratchDir { return URL(fileURLWithPath: scratchDir) }
        if let env = ProcessInfo.processInfo.environment["IMAGE_WORKER_SCRATCH"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return nil
    }

    /// The database path: `--db`, `$IMAGE_WORKER_DB`, or the layout's default.
    var databasePath: String {
        if let database { return database }
        if let env = ProcessInfo.processInfo.environment["IMAGE_WORKER_DB"], !env.isEmpty {
            return env
        }
        return layout.database.path
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
