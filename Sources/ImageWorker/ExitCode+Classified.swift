import ArgumentParser
import Foundation
import ImageStore

extension ExitCode {
    /// Prints `error` as one line on stderr and returns the exit code its kind calls for:
    /// 130 when cancelled, 75 when transient, 1 when permanent. An `ExitCode` passes through.
    static func reporting(_ error: any Error) -> ExitCode {
        if let code = error as? ExitCode { return code }
        if error is CancellationError { return ExitCode(130) }
        let text = SafeText.escaping((error as? any ClassifiedError)?.description ?? "\(error)")
        FileHandle.standardError.write(Data("image-worker: \(text)\n".utf8))
        return ErrorKind.of(error).isTransient ? ExitCode(75) : ExitCode(1)
    }
}

/// Runs `body`; a failure becomes one line on stderr and the exit code of ``ExitCode/reporting(_:)``.
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        throw ExitCode.reporting(error)
    }
}
