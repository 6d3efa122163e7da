import Foundation
import Synchronization

/// When each layer of a streaming pull can be read, and when it is in the content store: what
/// the disk builder waits on before it opens layer N, while layer N itself and N+1… are still
/// downloading.
///
/// A layer becomes readable when its download starts (``BlobFollow``: the builder reads the
/// bytes as they arrive) or when its blob is found in the store; it is stored once verified
/// (after ``ContentStore/commit(_:as:)``). Every index resolves exactly once to its verified blob
/// or to the pull's failure, which fails every index not yet stored, so a waiter never hangs.
public final class LayerArrivals: Sendable {
    /// What a builder reads a layer from.
    public enum Readable: Sendable {
        /// The verified blob in the store.
        case stored(URL)
        /// The blob while it downloads (not verified yet).
        case growing(BlobFollow)
    }

    private enum Slot {
        case waiting(stored: [CheckedContinuation<URL, any Error>], readable: [CheckedContinuation<Readable, any Error>])
        case growing(BlobFollow, stored: [CheckedContinuation<URL, any Error>])
        case arrived(URL)
        case failed(any Error)
    }

    private let slots: Mutex<[Slot]>

    /// Arrivals for `count` layers, none arrived yet.
    public init(count: Int) {
        slots = Mutex(Array(repeating: .waiting(stored: [], readable: []), count: count))
    }

    /// Waits until layer `index` is verified and in the store.
    ///
    /// - Returns: the blob file.
    /// - Throws: the pull's failure (`RegistryError`, `ContentStoreError`, `CancellationError`).
    public func wait(_ index: Int) async throws -> URL {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<URL, any Error>? = slots.withLock { slots in
                switch slots[index] {
                case .arrived(let url): return .success(url)
                case .failed(let error): return .failure(error)
                case .waiting(let stored, let readable):
                    slots[index] = .waiting(stored: stored + [continuation], readable: readable)
                    return nil
                case .growing(let follow, let stored):
                    slots[index] = .growing(follow, stored: stored + [continuation])
                    return nil
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    /// Waits until layer `index` can be read: its download started, or it is stored.
    ///
    /// - Throws: the pull's failure.
    public func waitUntilReadable(_ index: Int) async throws -> Readable {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<Readable, any Error>? = slots.withLock { slots in
                switch slots[index] {
                case .arrived(let url): return .success(.stored(url))
                case .growing(let follow, _): return .success(.growing(follow))
                case .failed(let error): return .failure(error)
                case .waiting(let stored, let readable):
                    slots[index] = .waiting(stored: stored, readable: readable + [continuation])
                    return nil
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    /// Records that the blob of the layers at `indices` started downloading into `follow`.
    func started(_ indices: [Int], follow: BlobFollow) {
        let readers = slots.withLock { slots in
            indices.flatMap { index -> [CheckedContinuation<Readable, any Error>] in
                guard case .waiting(let stored, let readable) = slots[index] else { return [] }
                slots[index] = .growing(follow, stored: stored)
                return readable
            }
        }
        for reader in readers { reader.resume(returning: .growing(follow)) }
    }

    /// Records that the layers at `indices` (one blob may be several layers) are in the store.
    func arrived(_ indices: [Int], at url: URL) {
        var stored: [CheckedContinuation<URL, any Error>] = []
        var readers: [CheckedContinuation<Readable, any Error>] = []
        slots.withLock { slots in
            for index in indices {
                switch slots[index] {
                case .waiting(let waiting, let readable):
                    stored += waiting
                    readers += readable
                case .growing(_, let waiting):
                    stored += waiting
                case .arrived, .failed:
                    continue
                }
                slots[index] = .arrived(url)
            }
        }
        for waiter in stored { waiter.resume(returning: url) }
        for reader in readers { reader.resume(returning: .stored(url)) }
    }

    /// Fails every layer not yet stored with `error`.
    func fail(_ error: any Error) {
        var stored: [CheckedContinuation<URL, any Error>] = []
        var readers: [CheckedContinuation<Readable, any Error>] = []
        slots.withLock { slots in
            for index in slots.indices {
                switch slots[index] {
                case .waiting(let waiting, let readable):
                    stored += waiting
                    readers += readable
                case .growing(_, let waiting):
                    stored += waiting
                case .arrived, .failed:
                    continue
                }
                slots[index] = .failed(error)
            }
        }
        for waiter in stored { waiter.resume(throwing: error) }
        for reader in readers { reader.resume(throwing: error) }
    }
}
