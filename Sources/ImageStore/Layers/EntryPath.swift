/// Splits a tar entry path into components that stay inside the root.
///
/// A leading `/` and `./` are stripped (an absolute path lands under the root, as tar extracts
/// it), empty and `.` components are dropped. Any `..` component is refused, even one that
/// would stay inside: normalising it would need to know whether the component before it is a
/// symlink, and no image tool writes such paths.
enum EntryPath {
    /// The components of `path`; empty for the root itself.
    ///
    /// - Returns: the components, or the reason the path is refused.
    static func components(_ path: [UInt8]) -> Result<[[UInt8]], Refusal> {
        var components: [[UInt8]] = []
        for part in path.split(separator: 0x2F, omittingEmptySubsequences: true) {
            if part.elementsEqual([0x2E]) { continue }
            if part.elementsEqual([0x2E, 0x2E]) { return .failure(.dotDot) }
            components.append(Array(part))
        }
        return .success(components)
    }

    /// The components joined with `/`, used as the key of a path in one layer.
    static func key(_ components: some Sequence<[UInt8]>) -> [UInt8] {
        Array(components.joined(separator: [0x2F]))
    }

    /// Why a path is refused.
    enum Refusal: Error {
        case dotDot

        var reason: String { "the path contains a \"..\" component" }
    }
}
