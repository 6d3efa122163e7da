/// Data blocks of the erofs image: a frontier after the last used block, and the runs that
/// released contents gave back (sorted, merged), reused first-fit so no dead data stays.
struct EROFSBlockAllocator {
    struct Run: Equatable {
        var start: UInt64
        var count: UInt64
    }

    /// The first block never used; block 0 holds the superblock.
    private(set) var frontier: UInt64 = 1
    private(set) var free: [Run] = []

    /// A free run of at least `count` blocks, taken out whole (first fit); `nil` if none.
    mutating func takeFree(atLeast count: UInt64) -> Run? {
        guard count > 0, let index = free.firstIndex(where: { $0.count >= count }) else { return nil }
        return free.remove(at: index)
    }

    /// `count` blocks at the frontier.
    mutating func takeFrontier(_ count: UInt64) throws(DiskError) -> UInt64 {
        let start = frontier
        guard start + count <= EROFSGeometry.maxBlocks else { throw .imageTooLargeForErofs }
        frontier += count
        return start
    }

    /// Moves the frontier to `block` (after blocks handed out from it one by one).
    mutating func advanceFrontier(to block: UInt64) throws(DiskError) {
        guard block <= EROFSGeometry.maxBlocks else { throw .imageTooLargeForErofs }
        frontier = max(frontier, block)
    }

    /// Gives `run` back; a run touching the frontier moves it back instead.
    mutating func giveBack(_ run: Run) {
        guard run.count > 0 else { return }
        var run = run
        var index = free.firstIndex { $0.start > run.start } ?? free.count
        if index > 0 && free[index - 1].start + free[index - 1].count == run.start {
            run = Run(start: free[index - 1].start, count: free[index - 1].count + run.count)
            free.remove(at: index - 1)
            index -= 1
        }
        if index < free.count && run.start + run.count == free[index].start {
            run.count += free[index].count
            free.remove(at: index)
        }
        if run.start + run.count == frontier {
            frontier = run.start
        } else {
            free.insert(run, at: index)
        }
    }
}
