import ArgumentParser
import ImageStore

/// `image-worker`: turns OCI images into bootable VM disk files, driven by a SQLite queue.
@main
struct ImageWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image-worker",
        abstract: "Turn OCI container images into bootable VM disk files (ext4, erofs, cpio).",
        discussion: """
            Exit codes: 0 success; 1 permanent failure (image failed, not found); 64 usage;
            75 transient failure, try again; 130 interrupted.
            """,
        version: "0.1.0",
        subcommands: [
            MigrateCommand.self, EnqueueCommand.self, PullCommand.self, ListCommand.self, StatusCommand.self,
            RetryCommand.self, DeleteCommand.self, WorkerCommand.self, RecoverCommand.self, GCCommand.self,
            UsageCommand.self, InspectCommand.self, FetchCommand.self, ImportCommand.self, ExportCommand.self,
            ExportTreeCommand.self, BenchQueueCommand.self, QueueDrillCommand.self,
        ]
    )

    /// Parses with the global options allowed on either side of the verb.
    static func main() async {
        BrokenPipes.ignore()
        await main(GlobalOptions.hoistingLeadingOptions(Array(CommandLine.arguments.dropFirst())))
    }
}
