/// OCI ChainIDs (image-spec config.md, "Layer ChainID"): one digest for a layer applied over
/// its lower layers, so a disk that depends on the lower layers is keyed by all of them.
///
/// `ChainID(L0) = DiffID(L0)`; `ChainID(Ln) = SHA256(ChainID(Ln-1) + " " + DiffID(Ln))`, over
/// the `sha256:…` strings.
public enum ChainID {
    /// The ChainID of each prefix of `diffIDs` (base first): element k is the ChainID of
    /// layers 0..k.
    public static func of(_ diffIDs: [Digest]) -> [Digest] {
        var chain: [Digest] = []
        for diffID in diffIDs {
            guard let below = chain.last else {
                chain.append(diffID)
                continue
            }
            chain.append(SHA256.digest(of: Array("\(below.description) \(diffID.description)".utf8)))
        }
        return chain
    }
}
