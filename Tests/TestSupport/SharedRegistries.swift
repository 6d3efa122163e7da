/// One registry per mode for the whole test process, started on first use and shared by
/// every suite that asks (push under distinct repository names). The registries are never
/// stopped explicitly: registry.py stops its registry and removes its storage when this
/// process exits.
public actor SharedRegistries {
    public static let shared = SharedRegistries()
    private var starting: [TestRegistry.Mode: Task<TestRegistry, any Error>] = [:]

    /// The shared registry for `mode`, started if needed.
    public func registry(_ mode: TestRegistry.Mode) async throws -> TestRegistry {
        if let task = starting[mode] {
            return try await task.value
        }
        let task = Task { try await TestRegistry.start(mode) }
        starting[mode] = task
        do {
            return try await task.value
        } catch {
            starting[mode] = nil
            throw error
        }
    }
}
