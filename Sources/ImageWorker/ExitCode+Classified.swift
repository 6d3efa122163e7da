import ArgumentParser
import Foundation
import ImageStore

extension ExitCode {
    /// Prints `error` on stderr and returns the exit code its kind calls for: 130 when
    /// cancelled, 75 when transient, 1 when permanent.
    static func reporting(_ error: any Error) -> ExitCode {
        if error is CancellationError { return ExitCode(130) }
        FileHandle.standardError.write(Data("image-worker: \(error)\n".utf8))
        return ErrorKind.of(error).isTransient ? ExitCode(75) : ExitCode(1)
    }
}
