extension Duration {
    /// Whole milliseconds, for the queue's millisecond columns and libcurl's `_MS` options;
    /// saturates at `Int.min`/`Int.max` (a duration built from an outside number never traps here).
    public var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = Int(seconds).multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? Int.min : Int.max }
        let (sum, sumOverflow) = scaled.addingReportingOverflow(Int(attoseconds / 1_000_000_000_000_000))
        return sumOverflow ? (scaled < 0 ? Int.min : Int.max) : sum
    }
}
