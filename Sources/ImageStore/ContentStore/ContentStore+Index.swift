import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension ContentStore {
    /// The annotation naming an index.json entry.
    public static let refNameAnnotation = "org.opencontainers.image.ref.name"

    /// Marks an index.json entry recorded by ``ImageImporter``: its name is local and resolves
    /// from the store, never from a registry.
    public static let importedAnnotation = "io.github.image-worker.imported"

    /// The digest an imported name points at, when `reference` is a tag that ``ImageImporter``
    /// recorded in index.json and its top blob is still in the store; `nil` otherwise (a
    /// digest reference, a pulled or unknown name: those resolve against the registry).
    ///
    /// - Throws: `ContentStoreError.invalidLayout` when index.json does not parse.
    public func importedDigest(named reference: ImageReference) throws(ContentStoreError) -> Digest? {
        guard !reference.isDigest else { return nil }
        let name = reference.description
        let entry = try indexEntries().last { entry in
            entry.annotations?[Self.refNameAnnotation] == name && entry.annotations?[Self.importedAnnotation] == "true"
        }
        guard let entry, has(entry.digest) else { return nil }
        return entry.digest
    }

    /// The entries of index.json (empty when there is none yet).
    ///
    /// - Throws: `ContentStoreError.invalidLayout` when index.json does not parse.
    public func indexEntries() throws(ContentStoreError) -> [Descriptor] {
        let url = root.appendingPathComponent("index.json")
        guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
        do {
            return try JSONDecoder().decode(Index.self, from: data).manifests
        } catch {
            throw .invalidLayout(path: url.path, reason: "index.json does not parse")
        }
    }

    /// Records `descriptor` in index.json under `name`, replacing an entry of the same name.
    ///
    /// Several processes share the file: the read-modify-write runs under an exclusive flock
    /// on `index.json.lock`, and the new file replaces the old by rename.
    ///
    /// - Throws: `ContentStoreError.fileSystem`, `.invalidLayout`.
    public func tag(_ descriptor: Descriptor, name: String) async throws {
        try await updateIndex { entries in
            var entry = descriptor
            entry.annotations = (entry.annotations ?? [:]).merging([Self.refNameAnnotation: name]) { $1 }
            return entries.filter { $0.annotations?[Self.refNameAnnotation] != name } + [entry]
        }
    }

    /// Drops the index.json entries whose digest `shouldRemove` picks (garbage collection).
    ///
    /// - Throws: `ContentStoreError.fileSystem`, `.invalidLayout`.
    public func removeIndexEntries(where shouldRemove: @escaping @Sendable (Digest) -> Bool) async throws {
        try await updateIndex { entries in entries.filter { !shouldRemove($0.digest) } }
    }

    /// Rewrites index.json under the lock with what `transform` makes of its entries.
    private func updateIndex(_ transform: @escaping @Sendable ([Descriptor]) -> [Descriptor]) async throws {
        let store = self
        try await BlockingExecutor.shared.run { try store.updateIndexBlocking(transform) }
    }

    private func updateIndexBlocking(_ transform: ([Descriptor]) -> [Descriptor]) throws(ContentStoreError) {
        let lockPath = root.appendingPathComponent("index.json.lock").path
        let lock = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw .fileSystem(path: lockPath, operation: "open", code: errno) }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .fileSystem(path: lockPath, operation: "flock", code: errno) }
        }
        let entries = transform(try indexEntries())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do {
            data = try encoder.encode(Index(manifests: entries))
        } catch {
            throw .invalidLayout(path: root.path, reason: "index.json cannot be encoded")
        }
        try Self.writeAtomically(data, to: root.appendingPathComponent("index.json"))
    }
}
