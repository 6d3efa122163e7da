import Foundation
import Subprocess

/// Imports an image from an OCI image layout directory (what `skopeo copy … oci:DIR:TAG`
/// writes) or an `oci-archive` tarball into the content store, under a name the user gives
/// (the Go original's `ImportLocalImage`).
///
/// Every blob is copied through the hashing writer, so a corrupt source fails with
/// `ContentStoreError.digestMismatch` and leaves nothing behind.
public struct ImageImporter: Sendable {
    public let store: ContentStore
    /// Where a tarball is extracted (DataLayout.scratch); removed afterwards.
    public let scratch: URL

    /// Creates an importer.
    public init(store: ContentStore, scratch: URL) {
        self.store = store
        self.scratch = scratch
    }

    /// Imports the image tagged `tag` (or the only image) of `source` as `name`.
    ///
    /// - Parameters:
    ///   - source: a layout directory, or a tar file holding one at its top level.
    ///   - tag: the `org.opencontainers.image.ref.name` to pick; `nil` when the layout has one image.
    ///   - platform: chosen from an index.
    /// - Throws: `ContentStoreError.invalidLayout`, `.tagNotFound`, `.blobMissing`,
    ///   `.digestMismatch`, `.extractFailed`; `RegistryError.platformNotFound`.
    public func importImage(
        from source: URL, tag: String?, as name: ImageReference, platform: Platform = .current
    ) async throws -> PulledImage {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source.path, isDirectory: &isDirectory) else {
            throw ContentStoreError.invalidLayout(path: source.path, reason: "no such file or directory")
        }
        if isDirectory.boolValue {
            return try await importLayout(source, tag: tag, as: name, platform: platform)
        }
        let directory = scratch.appendingPathComponent("import-\(UUID().uuidString.lowercased())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let imported: Result<PulledImage, any Error>
        do {
            imported = .success(try await importArchive(source, into: directory, tag: tag, as: name, platform: platform))
        } catch {
            imported = .failure(error)
        }
        // The extracted copy goes either way; failing to remove it is an error of its own
        // (after a failed import, the import's error is the one to report; gc retries).
        do {
            try FileTree.remove(directory.path)
        } catch {
            if case .success = imported { throw error }
        }
        return try imported.get()
    }

    private func importArchive(
        _ source: URL, into directory: URL, tag: String?, as name: ImageReference, platform: Platform
    ) async throws -> PulledImage {
        let result = try await run(
            .name("tar"), arguments: ["-xf", source.path, "-C", directory.path], output: .discarded,
            error: .string(limit: 4096))
        guard result.terminationStatus.isSuccess else {
            throw ContentStoreError.extractFailed(
                path: source.path, status: "\(result.terminationStatus)",
                stderrTail: String(result.standardError.suffix(300)).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return try await importLayout(directory, tag: tag, as: name, platform: platform)
    }

    private func importLayout(_ source: URL, tag: String?, as name: ImageReference, platform: Platform) async throws
        -> PulledImage
    {
        let sourceIndex = try readJSON(Index.self, source.appendingPathComponent("index.json"))
        let names = sourceIndex.manifests.compactMap { $0.annotations?[ContentStore.refNameAnnotation] }
        let top: Descriptor
        if let tag {
            guard
                let found = sourceIndex.manifests.first(where: { entry in
                    guard let refName = entry.annotations?[ContentStore.refNameAnnotation] else { return false }
                    return refName == tag || refName.hasSuffix(":" + tag)
                })
            else {
                throw ContentStoreError.tagNotFound(path: source.path, tag: tag, available: names)
            }
            top = found
        } else {
            guard sourceIndex.manifests.count == 1, let only = sourceIndex.manifests.first else {
                throw ContentStoreError.tagNotFound(path: source.path, tag: "", available: names)
            }
            top = only
        }

        var copied = 0
        if try await copy(top, from: source) { copied += 1 }
        var manifestDescriptor = top
        var indexDigest: Digest?
        var chosenPlatform = top.platform ?? platform
        if MediaType.isIndex(top.mediaType) {
            let index = try readJSON(Index.self, store.path(of: top.digest))
            guard let entry = index.manifest(for: platform) else {
                throw RegistryError.platformNotFound(
                    name, platform: platform, available: index.manifests.compactMap(\.platform))
            }
            indexDigest = top.digest
            manifestDescriptor = entry
            chosenPlatform = entry.platform ?? platform
            if try await copy(entry, from: source) { copied += 1 }
        }
        let manifest = try readJSON(Manifest.self, store.path(of: manifestDescriptor.digest))
        try ManifestLimits.check(manifest, url: "\(source.path)@\(manifestDescriptor.digest)")
        for blob in [manifest.config] + manifest.layers where try await copy(blob, from: source) { copied += 1 }
        let configuration = try readJSON(ImageConfiguration.self, store.path(of: manifest.config.digest))
        if indexDigest == nil, let os = configuration.os, let architecture = configuration.architecture {
            chosenPlatform = Platform(os: os, architecture: architecture, variant: configuration.variant)
        }
        var entry = Descriptor(
            mediaType: top.mediaType, digest: top.digest, size: top.size,
            annotations: [ContentStore.importedAnnotation: "true"])
        entry.platform = indexDigest == nil ? chosenPlatform : nil
        try await store.tag(entry, name: name.description)
        return PulledImage(
            reference: name, indexDigest: indexDigest, manifestDigest: manifestDescriptor.digest,
            platform: chosenPlatform, manifest: manifest, configuration: configuration,
            layers: manifest.layers.map { PulledImage.Layer(descriptor: $0, path: store.path(of: $0.digest)) },
            downloadedBlobs: copied)
    }

    /// Copies one blob from the source layout through the hashing writer.
    ///
    /// - Returns: whether it was copied (false when already in the store).
    private func copy(_ descriptor: Descriptor, from source: URL) async throws -> Bool {
        if store.has(descriptor.digest) { return false }
        let file = source.appendingPathComponent("blobs").appendingPathComponent(descriptor.digest.algorithm)
            .appendingPathComponent(descriptor.digest.encoded)
        guard let handle = try? FileHandle(forReadingFrom: file) else {
            throw ContentStoreError.blobMissing(path: source.path, digest: descriptor.digest)
        }
        let writer = try store.makeWriter()
        try await BlockingExecutor.shared.run {
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                try chunk.withUnsafeBytes { try writer.write($0) }
            }
        }
        guard writer.count == descriptor.size else {
            writer.discard()
            throw ContentStoreError.invalidLayout(
                path: file.path, reason: "blob has \(writer.count) bytes, the descriptor says \(descriptor.size)")
        }
        try await store.commit(writer, as: descriptor.digest)
        return true
    }

    private func readJSON<T: Decodable>(_ type: T.Type, _ url: URL) throws(ContentStoreError) -> T {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .invalidLayout(path: url.path, reason: "cannot be read")
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw .invalidLayout(path: url.path, reason: "does not parse as \(T.self)")
        }
    }
}
