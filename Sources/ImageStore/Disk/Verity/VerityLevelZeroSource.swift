/// A disk writer that can hash its blocks as it writes them (``VerityBlockHasher``), so
/// ``VerityTreeWriter`` copies level 0 instead of reading the disk again.
protocol VerityLevelZeroSource: AnyObject {
    /// The recorded hashes once every write is hashed, or `nil` when the writer was made
    /// without a verity salt.
    ///
    /// - Throws: ``DiskError/io(path:operation:errno:)`` when the hashes could not be stored.
    func verityLevelZero() throws(DiskError) -> SpoolFile?
}
