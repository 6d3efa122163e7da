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

    func run() async throws {
        let manager = try await global.openManager(registry: registry)
        let report = try await reportingErrors {
            var recoveryFailures: [String] = []
            do {
                try await manager.recoverInterruptedBuilds()
            } catch let FileSystemError.cleanupIncomplete(failures) {
                recoveryFailures = failures
            }
            var report = try await manager.collectGarbage(grace: .seconds(grace))
            report.cleanupFailures = recoveryFailures + report.cleanupFailures
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
