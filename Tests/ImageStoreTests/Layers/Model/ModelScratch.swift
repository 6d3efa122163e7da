import Foundation

@testable import ImageStore

extension LayerScratch {
    /// Applies the layers of make-hostile.py case `name` to a fresh model through the layer
    /// model builder: the host is never written.
    func model(_ name: String, limits: LayerLimits = .default) throws -> (FilesystemModel, MemorySink, LayerStatistics) {
        let sink = MemorySink()
        let builder = LayerModelBuilder(sink: sink, limits: limits)
        for layer in try layers(name) { try builder.apply(layer) }
        return (builder.model, sink, builder.statistics)
    }
}
