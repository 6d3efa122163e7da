import ArgumentParser
import Foundation
import ImageStore
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `image-worker worker`: the build loop, until SIGTERM or SIGINT.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Claim pending rows and build their disks until SIGTERM/SIGINT.",
        discussion: """
            Several processes may share one database. On SIGTERM or SIGINT the worker stops claiming; \
            in-flight builds finish, or at --shutdown-timeout are cancelled and released to pending.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var registry: RegistryOptions

    @Option(help: "Builds this process runs at once (1-256).")
    var concurrency = 1

    @Option(name: .customLong("worker-name"), help: "Name in images.worker_id (default <host id or hostname>:pid).")
    var workerName: String?

    @Option(name: .customLong("poll-interval-ms"), help: "How often an idle slot looks for new rows (10-3600000).")
    var pollIntervalMilliseconds = 500

    @Option(name: .customLong("metrics-addr"), help: "Serve Prometheus /metrics on host:port (default off).")
    var metricsAddress: String?

    @Option(name: .customLong("max-in-flight"), help: "Set the database-wide in-flight limit before starting (1-1000000).")
    var maxInFlight: Int?

    @Option(name: .customLong("shutdown-timeout"), help: "Seconds in-flight builds get to finish at shutdown (0-86400).")
    var shutdownTimeout = 60

    @Option(name: .customLong("erofs-level"), help: "lz4hc level for erofs disks (0-12).")
    var erofsLevel: Int?

    @Flag(name: .customLong("erofs-uncompressed"), help: "Write erofs disks without compression.")
    var erofsUncompressed = false

    @Flag(
        name: .customLong("exit-when-idle"),
        help: "Stop once no row this host may build is pending or in flight (demo, batch).")
    var exitWhenIdle = false

    func validate() throws {
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be 1...256") }
        guard (10...3_600_000).contains(pollIntervalMilliseconds) else {
            throw ValidationError("--poll-interval-ms must be 10...3600000")
        }
        if let maxInFlight {
            // 0 would stop every worker on the database from claiming, silently.
            let range = 1...SettingKey.maxInFlight.validRange.upperBound
            guard range.contains(maxInFlight) else {
                throw ValidationError("--max-in-flight must be \(range.lowerBound)...\(range.upperBound)")
            }
        }
        guard (0...86_400).contains(shutdownTimeout) else { throw ValidationError("--shutdown-timeout must be 0...86400") }
        if let erofsLevel, !(0...12).contains(erofsLevel) { throw ValidationError("--erofs-level must be 0...12") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = global.logLevel
            return handler
        }
        let logger = Logger(label: "image-worker")
        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(DescribedMetricsFactory(registry: prometheus))

        let options = ExportOptions(erofsCompressed: !erofsUncompressed, erofsLevel: erofsLevel)
        let manager = try await global.openManager(registry: registry, exportOptions: options)
        if let maxInFlight {
            try await reportingErrors { try await manager.queue.setSetting(.maxInFlight, to: maxInFlight) }
        }
        let host = global.explicitHostID ?? ProcessInfo.processInfo.hostName
        let name = workerName ?? "\(host):\(ProcessInfo.processInfo.processIdentifier)"
        let worker = Worker(
            configuration: WorkerConfiguration(
                workerName: name, concurrency: concurrency, pollInterval: .milliseconds(pollIntervalMilliseconds)),
            manager: manager, logger: logger)

        var services: [any Service] = [worker]
        if let metricsAddress {
            let server = try await reportingErrors { try MetricsServer(address: metricsAddress, registry: prometheus) }
            logger.info("metrics endpoint listening", metadata: ["address": "http://\(server.boundAddress)/metrics"])
            services.append(MetricsService(server: server))
        }
        if exitWhenIdle { services.append(IdleWatcher(queue: manager.queue)) }
        var configuration = ServiceGroupConfiguration(
            services: services.map {
                ServiceGroupConfiguration.ServiceConfiguration(
                    service: $0, successTerminationBehavior: .gracefullyShutdownGroup)
            },
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(shutdownTimeout)
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch is CancellationError {
            // SIGTERM/SIGINT ended the group: a normal stop, exit 0 without an error line.
            logger.debug("service group cancelled at shutdown")
        }
    }
}

/// Serves /metrics until graceful shutdown.
struct MetricsService: Service {
    let server: MetricsServer

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.run()
        } onGracefulShutdown: {
            server.shutdown()
        }
    }
}

/// Returns (shutting the group down) once nothing this host may build is pending or in flight
/// (rows pinned to other hosts do not count).
struct IdleWatcher: Service {
    let queue: ImageQueue

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            if try await queue.outstandingCount() == 0 { return }
            // Shutdown cuts the sleep short: return, not throw, so SIGTERM stays a quiet exit 0.
            guard (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: .milliseconds(500)) })) != nil
            else { return }
        }
    }
}
