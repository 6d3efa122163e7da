import ArgumentParser
import ImageStore

/// `image-worker recover`: returns rows of dead workers to the queue and removes what their
/// builds left behind, the same pass every worker runs at start and every 10 s.
struct RecoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Requeue rows whose worker stopped heartbeating (fail them at max_attempts), drop their "
            + "unfinished conversions and remove their scratch and temp files.",
        discussion: "Give it the same --data-dir (and --db) as the workers.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        // Recovery never talks to a registry.
        let manager = try await global.openManager()
        let report = try await reportingErrors { try await manager.recoverInterruptedBuilds() }
        for failure in report.cleanupFailures { Output.error("recover: \(failure)") }
        if global.json {
            try Output.json(report)
        } else {
            if report.rows.isEmpty { Output.line("no expired leases") }
            for row in report.rows { Output.line("\(row.id) \(row.name): \(row.outcome.rawValue): \(row.message)") }
            Output.line(
                "dropped \(report.conversionsDropped) unfinished conversions, removed \(report.scratchRemoved) "
                    + "scratch directories and \(report.tempFilesRemoved) temp files")
        }
        // Something stale is still there: exit "try again" rather than success.
        if !report.cleanupFailures.isEmpty { throw ExitCode(75) }
    }
}
