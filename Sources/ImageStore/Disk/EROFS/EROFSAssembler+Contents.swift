extension EROFSAssembler {
    /// The data layout of a regular file from where its content lies.
    func planRegular(_ stored: EROFSDataSink.Stored, fixed: Int, into plan: inout Plan) throws(DiskError) {
        switch stored.placement {
        case .contiguous(let start, let blocks, nil):
            plan.record.layout = .flatPlain
            plan.record.union = blocks > 0 ? UInt32(truncatingIfNeeded: start) : 0
        case .contiguous(let start, let blocks, let tail?):
            if fixed + tail.length <= EROFSGeometry.blockSize {
                plan.record.layout = .flatInline
                plan.record.union = blocks > 0 ? UInt32(truncatingIfNeeded: start) : 0
                plan.inline = .spool(tail)
            } else {
                // Too many xattrs to keep the tail inline: chunks as large as the run allows,
                // the tail in a block of its own as the last chunk.
                var bits: UInt8 = 0
                while bits < 31 && blocks > 0 && blocks & (UInt64(1) << (bits + 1) - 1) == 0 { bits += 1 }
                let block = try sink.allocator.takeFrontier(1)
                try file.write(try sink.spool.read(tail), at: block)
                var table: [UInt32] = []
                for chunk in 0..<(blocks >> bits) { table.append(UInt32(truncatingIfNeeded: start + chunk << bits)) }
                table.append(UInt32(truncatingIfNeeded: block))
                plan.record.layout = .chunkBased
                plan.record.union = UInt32(bits)
                plan.extra = EROFSAssembler.encode(table)
            }
        case .chunked(let bits, let table):
            plan.record.layout = .chunkBased
            plan.record.union = UInt32(bits)
            plan.extra = EROFSAssembler.encode(table)
        case .compressed(let extents):
            plan.record.layout = .compressedFull
            plan.record.union = UInt32(extents.count)  // compressed_blocks: one block per pcluster
            plan.extra = EROFSCompressedIndex.encode(extents, size: stored.size, before: fixed)
        }
    }

    /// A chunk table as stored: le32 block addresses.
    static func encode(_ table: [UInt32]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 4 * table.count)
        for (index, entry) in table.enumerated() { bytes.putLE32(entry, at: 4 * index) }
        return bytes
    }

    /// The stored content of every regular file by position; contents stored but no longer
    /// referenced are released (no dead data); a content claimed by two inodes is refused.
    func regularContents(_ tree: EROFSTree) throws -> [Int: EROFSDataSink.Stored] {
        var result: [Int: EROFSDataSink.Stored] = [:]
        var referenced = Set<UInt32>()
        for (position, id) in tree.order.enumerated() {
            let inode = model[id]
            guard inode.kind == .regular, let content = inode.content else { continue }
            guard referenced.insert(content.rawValue).inserted else {
                throw DiskError.inconsistentModel(reason: "content \(content.rawValue) belongs to two inodes")
            }
            guard let stored = sink.stored(content) else {
                throw DiskError.inconsistentModel(reason: "content \(content.rawValue) was released or never stored")
            }
            result[position] = stored
        }
        for (index, stored) in sink.contents.enumerated() where !stored.released && !referenced.contains(UInt32(index)) {
            try sink.release(ContentID(rawValue: UInt32(index)))
        }
        return result
    }

    /// The most common mtime (the earliest of equals): the build time that lets most inodes be
    /// compact, since a compact inode's mtime is the build time.
    static func commonTime(_ model: FilesystemModel, _ tree: EROFSTree) -> Timestamp {
        var counts: [Timestamp: Int] = [:]
        for id in tree.order { counts[model[id].modificationTime, default: 0] += 1 }
        var best = Timestamp.epoch
        var bestCount = 0
        for (time, count) in counts where count > bestCount || (count == bestCount && time < best) {
            best = time
            bestCount = count
        }
        return best
    }
}
