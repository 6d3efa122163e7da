/// Where the bytes of regular files go while the layers stream: a disk writer's data area.
///
/// The model builder calls ``store(size:chunks:)`` once per regular file, in tar order, and
/// ``release(_:)`` when a later layer deletes or replaces that file (and no hardlink keeps it),
/// so the writer can reuse or punch the space and no dead data stays in the image. Every
/// writer (ext4, erofs, cpio) brings its own sink; the model itself is format-agnostic.
///
/// A sink is used from one thread at a time (the thread applying layers) and may keep
/// internal state without locks.
public protocol FileDataSink: AnyObject {
    /// Stores one file of apparent size `size`.
    ///
    /// `chunks` calls its body with each data block in strictly increasing offset order; the
    /// gaps between blocks (and after the last one, up to `size`) are holes. Every block lies
    /// inside `0..<size` (the caller checks). The sink may write the bytes straight into its
    /// output; it must not keep the buffer after the body returns.
    ///
    /// - Returns: the handle the model keeps in the file's inode.
    /// - Throws: what `chunks` throws, or the sink's own I/O error.
    func store(
        size: Int64,
        chunks: ((_ offset: Int64, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> ContentID

    /// The content is no longer referenced by any inode; its space may be reused or punched.
    func release(_ content: ContentID) throws
}
