/// The native writer (ext4, erofs or cpio) and the model builder of one export from layers, handed from one blocking
/// job to the next, one layer at a time (``DiskExporter/export(layers:format:to:options:limits:arrivals:progress:)``).
///
/// `@unchecked Sendable`: the jobs that use it run one after another (each awaited before the
/// next starts), never at once, so the writer and builder see one thread at a time.
final class ModelBuildJob: @unchecked Sendable {
    let writer: any DiskImageWriter
    let builder: LayerModelBuilder

    /// Creates the writer of `format` on `path` and a builder whose file data goes to it.
    ///
    /// - Throws: the writer's `DiskError` when the file cannot be created.
    init(
        format: DiskFormat, path: String, identity: DiskIdentity, options: ExportOptions, limits: LayerLimits,
        veritySalt: [UInt8]?, cancellation: CancellationFlag
    ) throws {
        writer = try DiskExporter.writer(format, path: path, identity: identity, options: options, veritySalt: veritySalt)
        builder = LayerModelBuilder(sink: writer.sink, limits: limits, cancellation: cancellation)
    }
}
