import ArgumentParser
import ImageStore

/// `image-worker gc`: removes blobs, disks and scratch nothing refers to.
struct GCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove cache blobs no image refers to, orphaned disk files and stale scratch.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var registry: RegistryOptions

    @Option(help: "Keep unreferenced blobs and export scratch younger than this many seconds (a pull may be using them).")
    var grace = 3600

    func validate() throws {
        guard (0...31_536_000).contains(grace) else { throw ValidationError("--grace must be 0...31536000 seconds") }
    }

    func run() async throws {
        let manager = try await global.openManager(registry: registry)
        let report = try await reportingErrors {
            let recovered = try await manager.recoverInterruptedBuilds()
            var report = try await manager.collectGarbage(grace: .seconds(grace))
            report.cleanupFailures = recovered.cleanupFailures + report.cleanupFailures
            return report
        }
        for failure in report.cleanupFailures { Output.error("gc: \(failure)") }
        if global.json {
            try Output.json(report)
        } else {
            Output.line(
                "removed \(report.blobsRemoved) blobs (\(report.blobBytesFreed) bytes), \(report.disksRemoved) disks "
                    + "(\(report.diskBytesFreed) bytes), \(report.scratchRemoved) scratch directories and temp files")
        }
        // Something stale is still there: say so with "try again" rather than success.
        if !report.cleanupFailures.isEmpty { throw ExitCode(75) }
    }
}
