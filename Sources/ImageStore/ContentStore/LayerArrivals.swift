import Foundation
import Synchronization

/// When each layer of a streaming pull is in the content store: what the disk builder waits on
/// before it opens layer N, while layers N+1… are still downloading.
///
/// Every layer index resolves exactly once: to its verified blob (after ``ContentStore/commit(_:as:)``)
/// or to the pull's failure, which fails every index not yet resolved, so a waiter never hangs.
public final class LayerArrivals: Sendable {
    private enum Slot {
        case waiting([CheckedContinuation<URL, any Error>])
        case arrived(URL)
        case failed(any Error)
    }

    private let slots: Mutex<[Slot]>

    /// Arrivals for `count` layers, none arrived yet.
    public init(count: Int) {
        slots = Mutex(Array(repeating: .waiting([]), count: count))
    }

    /// Waits until layer `index` is in the store.
    ///
    /// - Returns: the blob file.
    /// - Throws: the pull's failure (`RegistryError`, `ContentStoreError`, `CancellationError`).
    public func wait(_ index: Int) async throws -> URL {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<URL, any Error>? = slots.withLock { slots in
                switch slots[index] {
                case .arrived(let url): return .success(url)
                case .failed(let error): return .failure(error)
                case .waiting(let waiters):
                    slots[index] = .waiting(waiters + [continuation])
                    return nil
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    /// Records that the layers at `indices` (one blob may be several layers) are in the store.
    func arrived(_ indices: [Int], at url: URL) {
        let waiters = slots.withLock { slots in
            indices.flatMap { index -> [CheckedContinuation<URL, any Error>] in
                guard case .waiting(let waiters) = slots[index] else { return [] }
                slots[index] = .arrived(url)
                return waiters
            }
        }
        for waiter in waiters { waiter.resume(returning: url) }
    }

    /// Fails every layer not yet arrived with `error`.
    func fail(_ error: any Error) {
        let waiters = slots.withLock { slots in
            slots.indices.flatMap { index -> [CheckedContinuation<URL, any Error>] in
                guard case .waiting(let waiters) = slots[index] else { return [] }
                slots[index] = .failed(error)
                return waiters
            }
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }
}
