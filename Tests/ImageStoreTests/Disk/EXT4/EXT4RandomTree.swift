import Foundation

@testable import ImageStore

/// A deterministic generator (SplitMix64): the same seed gives the same tree.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        // The finalizer of the seed, so nearby seeds do not give shifted copies of one sequence.
        var z = seed &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        state = z ^ (z >> 31)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random trees for the property test: hostile names, every file shape, links, devices,
/// xattrs, deep paths, and deletions and replacements while "layers" stream.
struct EXT4RandomTree {
    var random: SeededGenerator
    let image: EXT4TestImage
    private var directories: [InodeID] = [.root]
    private var linkable: [InodeID] = []
    /// The largest hole before a data run of a sparse file, and after its last one.
    let maxHole: Int64

    init(seed: UInt64, image: EXT4TestImage, maxHole: Int64 = 8 << 20) {
        random = SeededGenerator(seed: seed)
        self.image = image
        self.maxHole = maxHole
    }

    mutating func build(entries: Int) throws {
        for _ in 0..<entries {
            let parent = directories[Int.random(in: 0..<directories.count, using: &random)]
            guard let name = freshName(in: parent) else { continue }
            let roll = Int.random(in: 0..<100, using: &random)
            switch roll {
            case 0..<18:
                let dir = image.directory(name, in: parent, permissions: permissions(), uid: owner(), gid: owner(), time: time(), xattrs: xattrs(user: true))
                directories.append(dir)
            case 18..<55:
                linkable.append(try file(name, in: parent))
            case 55..<65:
                let long = Bool.random(using: &random)
                let length = long ? Int.random(in: 60...4095, using: &random) : Int.random(in: 1...59, using: &random)
                let target = (0..<length).map { _ in UInt8.random(in: 1...255, using: &random) }
                image.special(name, kind: .symlink, in: parent, permissions: 0o777, uid: owner(), gid: owner(), time: time(), target: target, xattrs: xattrs(user: false))
            case 65..<73:
                let kind: InodeKind = [.characterDevice, .blockDevice, .fifo, .socket][Int.random(in: 0..<4, using: &random)]
                let node = image.special(
                    name, kind: kind, in: parent, permissions: permissions(), uid: owner(), gid: owner(), time: time(),
                    major: UInt32.random(in: 0..<4096, using: &random), minor: Bool.random(using: &random) ? UInt32.random(in: 0..<256, using: &random) : UInt32.random(in: 0..<(1 << 20), using: &random),
                    xattrs: xattrs(user: false))
                linkable.append(node)
            case 73..<83:
                if let target = linkable.randomElement(using: &random) { image.hardlink(target, named: name, in: parent) }
            case 83..<90:
                // A later layer deletes or replaces an entry.
                let children = image.model.children(of: parent)
                if let victim = children.randomElement(using: &random) {
                    let kind = image.model[victim.inode].kind
                    try image.remove(victim.name, in: parent)
                    if kind == .directory { directories = directories.filter { image.model.isLive($0) } }
                    linkable = linkable.filter { image.model.isLive($0) }
                    if Bool.random(using: &random) { linkable.append(try file(victim.name, in: parent)) }
                }
            default:
                // Deep paths.
                var current = parent
                for level in 0..<Int.random(in: 5...30, using: &random) {
                    let name = Array("deep\(level)".utf8)
                    if let existing = image.model.lookup(name, in: current) {
                        guard image.model[existing].kind == .directory else { break }
                        current = existing
                    } else {
                        current = image.directory(name, in: current, time: time())
                    }
                }
                directories.append(current)
            }
        }
    }

    private mutating func file(_ name: [UInt8], in parent: InodeID) throws -> InodeID {
        let shape = Int.random(in: 0..<100, using: &random)
        var chunks: [(offset: Int64, bytes: [UInt8])] = []
        var size: Int64 = 0
        switch shape {
        case 0..<15:
            size = 0
        case 15..<55:
            size = Int64.random(in: 1...300, using: &random)
            chunks = [(0, bytes(Int(size)))]
        case 55..<70:
            size = [4096, 8192, 4095, 4097][Int.random(in: 0..<4, using: &random)]
            chunks = [(0, bytes(Int(size)))]
        case 70..<75:
            size = Int64.random(in: (1 << 20)...(3 << 20), using: &random)
            chunks = [(0, bytes(Int(size)))]
        default:
            // Sparse: a few data runs with holes between and maybe after.
            var offset: Int64 = 0
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                offset += Int64.random(in: 0...maxHole, using: &random)
                let length = Int.random(in: 1...20000, using: &random)
                chunks.append((offset, bytes(length)))
                offset += Int64(length)
            }
            size = offset + (Bool.random(using: &random) ? Int64.random(in: 0...(2 * maxHole), using: &random) : 0)
        }
        return try image.file(
            name, in: parent, chunks: chunks, size: size, permissions: permissions(), uid: owner(), gid: owner(), time: time(),
            xattrs: xattrs(user: true))
    }

    private mutating func bytes(_ count: Int) -> [UInt8] {
        let seed = UInt8.random(in: 0...255, using: &random)
        return EXT4TreeCase.pattern(count, seed: seed)
    }

    private mutating func freshName(in parent: InodeID) -> [UInt8]? {
        for _ in 0..<4 {
            let length = Int.random(in: 0..<10, using: &random) == 0 ? 255 : Int.random(in: 1...24, using: &random)
            let alphabet: [UInt8] = Array("abcXYZ09 -_.\n".utf8) + [0x80, 0xC3, 0xA9, 0xFF, 0xFE, 0x01, 0x7F]
            let name = (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] }
            if name == [46] || name == [46, 46] || (parent == .root && name == Array("lost+found".utf8)) { continue }
            if image.model.lookup(name, in: parent) == nil { return name }
        }
        return nil
    }

    private mutating func permissions() -> UInt16 { UInt16.random(in: 0...0o7777, using: &random) }

    private mutating func owner() -> UInt32 {
        [0, 1000, 65534, 4_000_000_000][Int.random(in: 0..<4, using: &random)]
    }

    private mutating func time() -> Timestamp {
        Timestamp(
            seconds: Int64.random(in: -2_000_000_000...8_000_000_000, using: &random),
            nanoseconds: Int64.random(in: 0..<1_000_000_000, using: &random))
    }

    /// `user.*` only where the kernel allows it (regular files and directories).
    private mutating func xattrs(user: Bool) -> [Xattr] {
        var result: [Xattr] = []
        var hadLarge = false
        for _ in 0..<Int.random(in: 0...3, using: &random) {
            let large = !hadLarge && Int.random(in: 0..<5, using: &random) == 0
            hadLarge = hadLarge || large
            let value = bytes(large ? Int.random(in: 100...2500, using: &random) : Int.random(in: 0...20, using: &random))
            let prefix = user && Bool.random(using: &random) ? "user." : "trusted."
            result.append(Xattr(name: prefix + "k\(Int.random(in: 0..<1000, using: &random))", value: value))
        }
        if user && Int.random(in: 0..<6, using: &random) == 0 {
            result.append(Xattr(name: "security.capability", value: [0, 0, 0, 2] + bytes(16)))
        }
        return result
    }
}

extension FilesystemModel {
    /// Whether `id` is still a live inode (test helper).
    func isLive(_ id: InodeID) -> Bool {
        inodeIDs.contains(id)
    }
}
