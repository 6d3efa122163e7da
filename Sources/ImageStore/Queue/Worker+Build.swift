import Foundation
import Logging
import Synchronization

extension Worker {
    /// How one build attempt ended, for logs and the duration histogram.
    enum Outcome: String {
        case ready, shared, deferred, failed, requeued, released, lost
    }

    /// Builds one claimed row and records the outcome; never throws.
    func build(_ claim: Claim) async {
        var log = logger
        log[metadataKey: "id"] = "\(claim.id)"
        log[metadataKey: "image"] = "\(claim.name)"
        log[metadataKey: "format"] = "\(claim.format)"
        log[metadataKey: "attempt"] = "\(claim.attempts)"
        log.info("claimed; status pulling")
        let buildLog = log
        let clock = ContinuousClock()
        let start = clock.now
        let scratch = manager.scratchName(for: claim)
        let outcome: Outcome
        do {
            outcome = try await withHeartbeat(claim) { progress in
                try await pipeline(claim, scratch: scratch, progress: progress, log: buildLog)
            }
        } catch {
            // Free the scratch first: when the disk filled up, recording the outcome needs the
            // space the tree holds (SQLite cannot commit on a full filesystem). A failure here is
            // logged by the second removal below.
            try? await BlockingExecutor.shared.run { [manager] in try manager.removeScratch(named: scratch) }
            outcome = await settle(claim, error: error, log: log)
        }
        do {
            try await BlockingExecutor.shared.run { [manager] in try manager.removeScratch(named: scratch) }
        } catch {
            // Recovery and gc try again; say so rather than leave the tree without a word.
            log.error("could not remove the build's scratch", metadata: ["error": "\(SafeText.escaping("\(error)"))"])
        }
        let duration = clock.now - start
        metrics.buildFinished(status: outcome.rawValue, duration: duration)
        if let counts = try? await manager.queue.countsByStatus() { metrics.queueObserved(countsByStatus: counts) }
        log.info("build finished", metadata: ["outcome": "\(outcome.rawValue)", "duration": "\(duration)"])
    }

    /// The pipeline of one claim. Throws whatever a stage threw; ``settle(_:error:log:)`` decides.
    private func pipeline(_ claim: Claim, scratch: String, progress: ProgressBox, log: Logger) async throws
        -> Outcome
    {
        var log = log
        let queue = manager.queue
        let reference = try ImageReference(parsing: claim.name)
        guard let format = DiskFormat(rawValue: claim.format) else { throw QueueError.unsupportedFormat(claim.format) }
        let resolved = try await manager.builder.resolve(reference)
        let asked = resolved.indexDigest ?? resolved.manifestDigest
        try await queue.recordResolution(
            claim, normalizedName: reference.description, digest: asked.description,
            manifestDigest: resolved.manifestDigest.description, platform: resolved.platform.description)
        log[metadataKey: "digest"] = "\(resolved.manifestDigest)"
        log.info("resolved", metadata: ["normalized": "\(reference)", "platform": "\(resolved.platform)"])

        let verity = claim.verity && manager.builder.exportOptions.appendsVerity(for: format)
        let finalPath = manager.layout.diskPath(
            for: reference, manifestDigest: resolved.manifestDigest, format: format, verity: verity)
        // A second pass covers an artifact deleted between acquiring and sharing it.
        for _ in 0..<2 {
            let lock = try await queue.acquireBuild(
                claim, manifestDigest: resolved.manifestDigest.description, format: format.rawValue, verity: verity,
                path: finalPath.path)
            switch lock {
            case .ready(let artifactID, let path):
                if try await queue.completeSharing(claim, artifactID: artifactID) {
                    metrics.pullFinished(success: true, cacheHit: true)
                    log.info("ready; sharing the disk of the same digest and format", metadata: ["path": "\(path)"])
                    return .shared
                }
            case .busy:
                try await queue.deferClaim(claim, for: configuration.busyRetryDelay.wholeMilliseconds)
                log.info("deferred; another worker is converting the same digest and format")
                return .deferred
            case .acquired(let artifactID):
                do {
                    // Pull by the digest just resolved: the tag may move meanwhile, and the
                    // registry is not asked twice.
                    try await convert(
                        claim, reference: reference.withDigest(asked), format: format, verity: verity,
                        artifactID: artifactID,
                        finalPath: finalPath, scratch: scratch, progress: progress, log: log)
                    return .ready
                } catch {
                    try? await queue.abandonBuild(claim, artifactID: artifactID)
                    throw error
                }
            }
        }
        throw QueueError.leaseLost(id: claim.id, token: claim.token)
    }

    /// Pulls, converts and publishes: the claim holds the artifact's conversion.
    private func convert(
        _ claim: Claim, reference: ImageReference, format: DiskFormat, verity: Bool, artifactID: Int, finalPath: URL,
        scratch: String, progress: ProgressBox, log: Logger
    ) async throws {
        let queue = manager.queue
        let pull: StreamingPull
        do {
            pull = try await manager.builder.pullStreaming(reference) { event in progress.record(event) }
        } catch {
            metrics.pullFinished(success: false, cacheHit: false)
            throw error
        }
        // The disk is written inside the claim's scratch under the data directory, so recovery
        // can remove a crashed build's partial disk, and publishing it is a same-filesystem rename.
        let output = manager.layout.scratch.appendingPathComponent(scratch, isDirectory: true)
            .appendingPathComponent("disk.\(format.fileExtension)")
        // Layer N is applied while its own bytes and layers N+1… download; the row says pulling
        // until the last blob is stored, then converting with the bytes applied so far.
        let pulledOK = Mutex(false)
        let metrics = self.metrics
        let built: (image: PulledImage, disk: ExportResult)
        do {
            built = try await manager.builder.buildWhilePulling(
                pull, format: format, output: output, verity: verity,
                progress: { applied in progress.recordApplied(applied) },
                pulled: { image in
                    pulledOK.withLock { $0 = true }
                    metrics.pullFinished(success: true, cacheHit: image.downloadedBlobs == 0)
                    metrics.downloaded(bytes: progress.downloadedBytes)
                    try await queue.markConverting(claim, layerBytes: image.layerBytes)
                    // After the row is converting, so the heartbeat's next figures are applied bytes.
                    progress.startConverting(totalBytes: image.layerBytes)
                    log.info("pulled; status converting", metadata: ["blobs_downloaded": "\(image.downloadedBlobs)"])
                })
        } catch {
            if !pulledOK.withLock({ $0 }) { metrics.pullFinished(success: false, cacheHit: false) }
            throw error
        }
        let (image, disk) = built
        metrics.converted(format: format.rawValue)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let config = String(decoding: try encoder.encode(image.configuration.config ?? ImageConfig()), as: UTF8.self)
        // The rename into the final path happens inside the fenced publish: a builder whose
        // lease was taken over never replaces a disk another builder published.
        let source = URL(fileURLWithPath: disk.path)
        let group = manager.layout.diskGroup
        // erofs-layers: the list's size is its layer disks' (each counted once by `usage`).
        let layers = disk.layers.map { $0.map(ArtifactLayer.init) }
        let sizeBytes = layers == nil ? DiskFile.allocatedBytes(disk.path) : Int64(clamping: disk.allocatedBytes)
        try await queue.publish(
            claim, artifactID: artifactID, sizeBytes: sizeBytes, configJSON: config, verity: disk.verity, layers: layers,
            moveIntoPlace: {
                // A layer disk reused from an image deleted meanwhile may be gone: never list it.
                for layer in layers ?? [] where !ImageQueue.fileIsIntact(layer.path, allocatedBytes: nil) {
                    throw DiskError.io(path: layer.path, operation: "stat", errno: ENOENT)
                }
                try DiskFile.moveIntoPlace(source, to: finalPath, group: group)
            })
        var metadata: Logger.Metadata = [
            "path": "\(finalPath.path)", "bytes": "\(sizeBytes)",
            "verity_root_hash": "\(disk.verity?.rootHash ?? "none")",
        ]
        if let converted = disk.layers?.filter(\.converted).count, let total = disk.layers?.count {
            metadata["layers_converted"] = "\(converted) of \(total)"
        }
        log.info("ready", metadata: metadata)
    }

    /// Records a failed attempt: permanent → failed, transient → pending with backoff,
    /// cancellation (shutdown deadline) → released, lease lost → nothing to record.
    private func settle(_ claim: Claim, error: any Error, log: Logger) async -> Outcome {
        let queue = manager.queue
        if let queueError = error as? QueueError, case .leaseLost = queueError {
            log.warning("lease lost; another worker or recovery owns the row now, dropping this work")
            return .lost
        }
        if error is CancellationError || Task.isCancelled {
            do {
                try await queue.release(claim)
                log.notice("released to pending at shutdown")
            } catch {
                log.warning("release at shutdown failed; recovery will requeue the row", metadata: ["error": "\(error)"])
            }
            return .released
        }
        let message = SafeText.escaping((error as? any ClassifiedError)?.description ?? "unclassified error: \(error)")
        let kind = ErrorKind.of(error)
        if !(error is any ClassifiedError) { log.warning("unclassified error", metadata: ["error": "\(error)"]) }
        do {
            switch kind {
            case .permanent:
                try await recording(log) { try await queue.fail(claim, error: message, kind: .permanent) }
                log.error("failed", metadata: ["error": "\(message)"])
                return .failed
            case .transient(let retryAfter):
                let retryAfterMilliseconds = retryAfter?.wholeMilliseconds
                let delay = configuration.retryPolicy.delay(
                    afterAttempt: claim.attempts, retryAfterMilliseconds: retryAfterMilliseconds,
                    random: Double.random(in: 0...1))
                let requeued = try await recording(log) {
                    try await queue.requeue(claim, error: message, retryAfter: delay)
                }
                switch requeued {
                case .requeued:
                    log.warning("transient failure; status pending", metadata: ["error": "\(message)", "retry_in_ms": "\(delay)"])
                    return .requeued
                case .failed:
                    log.error("failed after the last attempt", metadata: ["error": "\(message)"])
                    return .failed
                }
            }
        } catch {
            log.warning("could not record the failure", metadata: ["error": "\(error)"])
            return .lost
        }
    }
}

/// The latest progress of one build, written by curl callbacks (download) and the layer
/// applier (conversion), read by the heartbeat task.
final class ProgressBox: Sendable {
    /// What the heartbeat writes: the stage the figures belong to and its bytes.
    struct Snapshot: Equatable {
        var stage: ImageStatus
        var done: Int64
        var total: Int64
    }

    private struct State {
        var snapshot = Snapshot(stage: .pulling, done: 0, total: 0)
        var downloaded: Int64 = 0
        /// Layer bytes applied so far, also while the row still says pulling (layers are
        /// applied as they arrive).
        var applied: Int64 = 0
    }

    private let state = Mutex<State>(State())

    func record(_ event: PullProgress) {
        state.withLock { value in
            guard value.snapshot.stage == .pulling else { return }
            switch event {
            case .layersPlanned(_, let total, let present):
                value.snapshot.total = total
                value.snapshot.done = present
            case .bytes(let done, let total):
                value.downloaded += max(0, done - value.snapshot.done)
                value.snapshot.done = done
                value.snapshot.total = total
            default:
                break
            }
        }
    }

    /// From now on the figures are layer bytes applied (those applied while downloading
    /// included), of `totalBytes`.
    func startConverting(totalBytes: Int64) {
        state.withLock { value in
            value.snapshot = Snapshot(stage: .converting, done: min(value.applied, totalBytes), total: totalBytes)
        }
    }

    /// Layer bytes applied so far.
    func recordApplied(_ bytes: Int64) {
        state.withLock { value in
            value.applied = max(0, bytes)
            guard value.snapshot.stage == .converting else { return }
            value.snapshot.done = min(value.applied, value.snapshot.total)
        }
    }

    var snapshot: Snapshot { state.withLock { $0.snapshot } }

    /// Bytes fetched from the registry in this build.
    var downloadedBytes: Int64 { state.withLock { $0.downloaded } }
}
