import Metrics

/// The worker's instruments (the Go original's `Metrics`), reported through swift-metrics.
///
/// | name | type | labels |
/// |---|---|---|
/// | `image_build_duration_seconds` | histogram | `status` = how the attempt ended (below) |
/// | `image_pulls_total` | counter | `status` = success, failure; `cache_hit` = true, false |
/// | `image_downloaded_bytes_total` | counter | |
/// | `image_conversions_total` | counter | `format` |
/// | `image_queue_length` | gauge | (rows pending + in flight, whole database) |
/// | `images` | gauge | `status` (whole database) |
///
/// Build outcomes: ready, shared (a finished disk of the same digest and format), deferred
/// (that disk is being built elsewhere), failed, requeued, released (shutdown), lost (lease).
///
/// Gauges describe the shared database, so every worker process reports the same values; they
/// are refreshed after every build and by housekeeping. Counters and histograms count what this
/// process did.
public struct WorkerMetrics: Sendable {
    public init() {}

    /// One line per metric name, for the exposition's `# HELP`.
    public static let help: [String: String] = [
        "image_build_duration_seconds": "Wall time of one build attempt, by how it ended.",
        "image_pulls_total": "Image pulls by this process; cache_hit when every blob was already stored.",
        "image_downloaded_bytes_total": "Bytes downloaded from registries by this process.",
        "image_conversions_total": "Disks written by this process (layers applied, filesystem made), by format.",
        "image_queue_length": "Rows pending or in flight in the whole database.",
        "images": "Rows in the whole database by status.",
    ]

    /// Records one finished build attempt.
    public func buildFinished(status: String, duration: Duration) {
        Timer(label: "image_build_duration_seconds", dimensions: [("status", status)])
            .recordNanoseconds(duration.nanoseconds)
    }

    /// Records one pull: `cacheHit` when every blob was already in the content store.
    public func pullFinished(success: Bool, cacheHit: Bool) {
        Counter(
            label: "image_pulls_total",
            dimensions: [("status", success ? "success" : "failure"), ("cache_hit", cacheHit ? "true" : "false")]
        ).increment()
    }

    /// Adds bytes fetched from registries.
    public func downloaded(bytes: Int64) {
        guard bytes > 0 else { return }
        Counter(label: "image_downloaded_bytes_total").increment(by: bytes)
    }

    /// Counts one conversion (layers applied and a disk written).
    public func converted(format: String) {
        Counter(label: "image_conversions_total", dimensions: [("format", format)]).increment()
    }

    /// Publishes the database-wide row counts.
    public func queueObserved(countsByStatus: [String: Int]) {
        for status in ["pending", "pulling", "converting", "ready", "failed"] {
            Gauge(label: "images", dimensions: [("status", status)]).record(countsByStatus[status] ?? 0)
        }
        let queued = (countsByStatus["pending"] ?? 0) + (countsByStatus["pulling"] ?? 0)
            + (countsByStatus["converting"] ?? 0)
        Gauge(label: "image_queue_length").record(queued)
    }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds.multipliedReportingOverflow(by: 1_000_000_000).partialValue + attoseconds / 1_000_000_000
    }
}
