import Testing

/// The suites that keep a core busy for a minute or more with synchronous work (random-tree
/// property tests). Swift Testing runs synchronous tests on the cooperative pool, which has one
/// thread per core: two of these side by side starve every async test of the process (harness
/// deadlines, helpers' timeouts) for as long as they run. Serialized, they hold one thread at most.
@Suite(.serialized) enum CPUBound {}
