extension Duration {
    /// Whole milliseconds, for the queue's millisecond columns and libcurl's `_MS` options.
    ///
    /// Saturates at `Int.min`/`Int.max`: a duration built from a number a server sent never
    /// traps here.
    public var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? Int.min : Int.max }
        let (total, carry) = Int(milliseconds).addingReportingOverflow(Int(attoseconds / 1_000_000_000_000_000))
        if carry { return seconds < 0 ? Int.min : Int.max }
        return total
    }
}
