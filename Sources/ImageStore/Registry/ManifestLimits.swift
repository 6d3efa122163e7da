/// Bounds on what a manifest may declare, checked before anything it names is fetched.
///
/// A manifest comes from the registry (or an imported layout), so its numbers are untrusted:
/// a negative size, `Int64.max` or a sum that overflows must end in a clear permanent error,
/// never in a trap or a download that cannot end.
///
/// | what | limit | beyond it |
/// |---|---|---|
/// | one blob's `size` | 0 ... 1 TiB | `RegistryError.invalidManifest` |
/// | the sum of the layer sizes | 1 TiB | `RegistryError.invalidManifest` |
/// | the config blob's `size` | 8 MiB (``configLimit``) | `RegistryError.sizeExceeded` |
///
/// The config is downloaded to its declared size and read whole, hence its own small limit: real
/// configs are a few KiB (a long build history reaches a few hundred KiB).
public enum ManifestLimits {
    /// The largest blob size a descriptor may declare: 1 TiB, far above any real layer and
    /// far below where sums of a few thousand of them could overflow.
    public static let maxBlobSize: Int64 = 1 << 40
    /// The largest config blob: 8 MiB.
    public static let configLimit: Int64 = 8 << 20

    /// Checks every size `manifest` declares.
    ///
    /// - Parameter url: names the manifest in the error (`repository@digest`).
    /// - Throws: `RegistryError.invalidManifest` (negative or absurd size, or layer sizes whose
    ///   sum passes the limit), `.sizeExceeded` (config above ``configLimit``).
    public static func check(_ manifest: Manifest, url: String) throws(RegistryError) {
        try check(manifest.config, role: "config", url: url)
        guard manifest.config.size <= configLimit else {
            throw .sizeExceeded(url: "\(url) config \(manifest.config.digest)", limit: Int(configLimit))
        }
        var total: Int64 = 0
        for (position, layer) in manifest.layers.enumerated() {
            try check(layer, role: "layer \(position + 1)", url: url)
            let (sum, overflow) = total.addingReportingOverflow(layer.size)
            guard !overflow, sum <= maxBlobSize else {
                throw .invalidManifest(url: url, reason: "the layers declare more than \(maxBlobSize) bytes in total")
            }
            total = sum
        }
    }

    /// Checks one descriptor's size.
    ///
    /// - Throws: `RegistryError.invalidManifest` naming `role` and the size.
    static func check(_ descriptor: Descriptor, role: String, url: String) throws(RegistryError) {
        guard descriptor.size >= 0, descriptor.size <= maxBlobSize else {
            throw .invalidManifest(
                url: url,
                reason: "\(role) \(descriptor.digest) declares size \(descriptor.size), outside 0...\(maxBlobSize)")
        }
    }
}
