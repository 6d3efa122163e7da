/// A row a worker claimed: what it needs to build, and the lease token that fences its updates.
public struct Claim: Sendable, Equatable {
    /// `images.id`.
    public let id: Int
    /// The reference as enqueued.
    public let name: String
    /// ext4, erofs or cpio.
    public let format: String
    /// `images.lease_token` after this claim; every update of this claim names it.
    public let token: Int
    /// Attempts including this one.
    public let attempts: Int
    /// The claiming worker, 'host:pid:n'.
    public let workerID: String
    /// `images.verity`: an ext4 or erofs disk gets a dm-verity tree.
    public let verity: Bool

    /// A claim as `claimNext` returned it (tests build one to act as a stale worker).
    public init(
        id: Int, name: String, format: String, token: Int, attempts: Int, workerID: String, verity: Bool = true
    ) {
        self.id = id
        self.name = name
        self.format = format
        self.token = token
        self.attempts = attempts
        self.workerID = workerID
        self.verity = verity
    }
}
