import UnixSignals

/// Runs `body` in a task that SIGINT or SIGTERM cancels, for the foreground commands that write
/// a disk beside their output (`export`, `export-tree`): cancelled, the writer removes its temp
/// file and `body` throws `CancellationError` (exit 130) instead of the process dying with a
/// partial hidden file left in the user's directory.
func cancellingOnInterrupt<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    // Trapped before the work starts, so no signal falls between the two.
    let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
    let work = Task { try await body() }
    let interrupts = Task {
        for await _ in signals {
            work.cancel()
            return
        }
    }
    defer { interrupts.cancel() }
    return try await work.value
}
