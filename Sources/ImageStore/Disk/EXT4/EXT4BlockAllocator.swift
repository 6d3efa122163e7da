/// Hands out blocks of the image: first blocks given back by released contents (so the data of
/// deleted files is overwritten or stays punched), then never-used blocks in ascending order,
/// skipping the superblock copy and descriptor reserve at the start of each `sparse_super` group.
///
/// Deterministic: the same sequence of requests gets the same blocks.
struct EXT4BlockAllocator {
    /// A run of consecutive blocks.
    struct Run: Equatable {
        var start: UInt64
        var count: UInt64
    }

    /// The lowest block never handed out.
    private(set) var next: UInt64 = EXT4Geometry.firstFreeBlock(ofGroup: 0)
    private var reusable: [Run] = []
    private var reusableIndex = 0

    /// Gives `run` back for reuse by later file data.
    mutating func giveBack(_ run: Run) {
        if run.count > 0 { reusable.append(run) }
    }

    /// Up to `count` consecutive blocks for file data, reused ones first.
    mutating func allocateData(upTo count: UInt64) throws(EXT4Failure) -> Run {
        while reusableIndex < reusable.count {
            var run = reusable[reusableIndex]
            guard run.count > 0 else {
                reusableIndex += 1
                continue
            }
            let take = min(count, run.count)
            let result = Run(start: run.start, count: take)
            run.start += take
            run.count -= take
            reusable[reusableIndex] = run
            if run.count == 0 { reusableIndex += 1 }
            return result
        }
        return try allocateFresh(upTo: count)
    }

    /// Up to `count` consecutive never-used blocks (a run stops before a superblock copy).
    mutating func allocateFresh(upTo count: UInt64) throws(EXT4Failure) -> Run {
        let group = next / EXT4Geometry.blocksPerGroup
        next = max(next, EXT4Geometry.firstFreeBlock(ofGroup: group))
        let limit = min(next + count, EXT4Geometry.nextCopyStart(after: group))
        guard limit <= EXT4Geometry.maxBlocks, limit > next else { throw .imageTooLarge }
        let run = Run(start: next, count: limit - next)
        next = limit
        return run
    }

    /// Exactly `count` consecutive never-used blocks (inode tables); blocks skipped before a
    /// superblock copy stay free.
    mutating func allocateContiguous(_ count: UInt64) throws(EXT4Failure) -> UInt64 {
        while true {
            let run = try allocateFresh(upTo: count)
            if run.count == count { return run.start }
        }
    }

    /// `count` never-used blocks in as few runs as they come.
    mutating func allocateRuns(_ count: UInt64) throws(EXT4Failure) -> [Run] {
        var runs: [Run] = []
        var left = count
        while left > 0 {
            let run = try allocateFresh(upTo: left)
            runs.append(run)
            left -= run.count
        }
        return runs
    }
}

/// Internal failures of the ext4 writer, mapped to ``DiskError`` at its surface.
enum EXT4Failure: Error, Equatable {
    case imageTooLarge
}
