import Testing

extension TestRegistry {
    /// The registry of the enclosing `@Suite(.registry(...))`, nil outside one.
    @TaskLocal public static var current: TestRegistry?
}

/// Starts one registry for a whole suite and stops it when the suite ends:
/// `@Suite(.registry(.plain)) struct PullTests { ... TestRegistry.current ... }`.
public struct RegistryTrait: SuiteTrait, TestScoping {
    let mode: TestRegistry.Mode

    public var isRecursive: Bool { false }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await TestRegistry.with(mode) { registry in
            try await TestRegistry.$current.withValue(registry) {
                try await function()
            }
        }
    }
}

extension Trait where Self == RegistryTrait {
    /// One registry in `mode` for the suite, reachable as `TestRegistry.current`.
    public static func registry(_ mode: TestRegistry.Mode) -> Self {
        RegistryTrait(mode: mode)
    }
}
