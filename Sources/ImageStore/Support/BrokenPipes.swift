#if canImport(Glibc)
    import Glibc
#endif

/// SIGPIPE off for the whole process, once.
///
/// A write to a pipe or socket whose reader is gone raises SIGPIPE, and its default action
/// ends the process: a worker would die (exit 141) because a registry closed a TLS connection
/// while OpenSSL wrote to it (libcurl with `CURLOPT_NOSIGNAL`, which a threaded program needs,
/// leaves SIGPIPE to the application), a scraper hung up, or a credential helper exited without
/// reading its stdin. Ignored, each of these is an EPIPE error of that one call, which the code
/// around it already reports. Child processes get the default action back (swift-subprocess
/// and ``CPIOCompressor`` reset it when they spawn).
public enum BrokenPipes {
    private static let ignoredOnce: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// Ignores SIGPIPE from now on; later calls do nothing.
    public static func ignore() {
        _ = ignoredOnce
    }
}
