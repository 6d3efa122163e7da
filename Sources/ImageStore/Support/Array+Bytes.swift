/// Bulk appends for byte buffers. `append(contentsOf: repeatElement(0, count: n))` and appends of
/// buffer slices go element by element through generic iterators unless the optimizer
/// specializes them, which a debug build (the tests') never does; these copy with memcpy.
extension Array where Element == UInt8 {
    /// Appends `count` zero bytes (nothing for `count <= 0`).
    mutating func appendZeros(_ count: Int) {
        var left = count
        zeroPage.withUnsafeBufferPointer { page in
            while left > 0 {
                let take = Swift.min(left, page.count)
                append(contentsOf: UnsafeBufferPointer(rebasing: page[0..<take]))
                left -= take
            }
        }
    }

    /// Appends the bytes of `bytes`.
    mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        bytes.withMemoryRebound(to: UInt8.self) { append(contentsOf: $0) }
    }
}

/// The source of ``Swift/Array/appendZeros(_:)``.
private let zeroPage = [UInt8](repeating: 0, count: 1 << 16)
