import Foundation
import Testing

@testable import ImageStore

/// What a hostile case must end in.
enum HostileOutcome: Sendable {
    /// Rejected with this `LayerError` case, from the layer at `layer`, naming `path`.
    case rejected(String, layer: Int, path: String)
    /// Applied, and these checks hold inside the root.
    case contained([ContainedCheck])
}

/// A check on the root after a contained hostile case.
enum ContainedCheck: Sendable {
    case type(String, Character)
    case absent(String)
    case content(String, String)
    case mode(String, UInt32)
}

struct HostileCase: Sendable, CustomTestStringConvertible {
    let name: String
    let outcome: HostileOutcome
    var testDescription: String { name }
}

extension HostileCase {
    /// The case name of `error` (`unsafePath`, `limitExceeded` …), for comparing with an outcome.
    static func caseName(_ error: LayerError) -> String {
        String(String(describing: Mirror(reflecting: error).children.first?.label ?? "\(error)"))
    }
}
