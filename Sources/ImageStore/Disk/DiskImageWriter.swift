/// A native disk writer (ext4, erofs, cpio): takes file data while the layers stream, then
/// writes everything else from the finished model.
///
/// ```
/// let writer = try EXT4Writer(path: temp, options: …)
/// // the model builder stores each regular file's bytes through `writer.sink` …
/// try writer.finish(model: model)   // inodes, directories, metadata; the file is complete
/// ```
///
/// Used from one thread (a ``BlockingExecutor`` job). A writer whose ``finish(model:)`` was not
/// called (an error, a cancellation) leaves an incomplete file that the caller removes.
public protocol DiskImageWriter: AnyObject {
    /// Receives the bytes of regular files; see ``FileDataSink``.
    var sink: any FileDataSink { get }

    /// Writes the rest of the disk from `model`, whose contents all came through ``sink``.
    ///
    /// The output must depend only on the model, the stored bytes and the writer's options
    /// (no clock, no randomness, no host state), so the same image gives a byte-identical disk.
    func finish(model: FilesystemModel) throws
}
