import ArgumentParser
import ImageStore

extension GlobalOptions {
    /// Opens the queue and the pipeline facade over the data directory.
    func openManager(registry: RegistryOptions, exportOptions: ExportOptions = ExportOptions()) async throws
        -> ImageManager
    {
        let queue = try await openQueue()
        return try await reportingErrors {
            try ImageManager(
                layout: layout, queue: queue, registry: try registry.configuration(),
                platform: try registry.resolvedPlatform(), exportOptions: exportOptions)
        }
    }

    /// The build steps alone, for `export`: no database is opened or created.
    func openBuilder(registry: RegistryOptions, exportOptions: ExportOptions) throws -> ImageBuilder {
        try ImageBuilder(
            layout: layout, registry: try registry.configuration(), platform: try registry.resolvedPlatform(),
            exportOptions: exportOptions)
    }

    /// Opens the facade for commands that never talk to a registry (list, status, enqueue,
    /// pull, recover): default registry settings, this machine's platform.
    func openManager() async throws -> ImageManager {
        let queue = try await openQueue()
        return try await reportingErrors {
            try ImageManager(layout: layout, queue: queue)
        }
    }
}
