import Foundation
import Testing

@testable import ImageStore

/// bench/queue-baseline.py must issue the very statements queue-drill issues, or bench-queue's
/// ratio compares different work.
@Suite struct BenchBaselineTests {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("bench/queue-baseline.py")

    /// The text of the Python string constant `name`, triple-quoted or not (before any `.format`).
    static func constant(_ name: String, in source: String) throws -> String {
        let opening = try #require(source.range(of: "\n\(name) = \""))
        var rest = source[opening.upperBound...]
        var quote = "\""
        if rest.hasPrefix("\"\"") {
            rest = rest.dropFirst(2)
            quote = "\"\"\""
        }
        let closing = try #require(rest.range(of: quote))
        return String(rest[..<closing.lowerBound])
    }

    /// `text` with every run of whitespace turned into one space, trimmed.
    static func squeezed(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// The PostgreSQL text with its `$N` placeholders renamed as psycopg2's `%(name)s`.
    static func named(_ text: String, _ names: [String]) -> String {
        var result = text
        for (index, name) in names.enumerated() { result = result.replacingOccurrences(of: "$\(index + 1)", with: "%(\(name))s") }
        return result
    }

    @Test("the SQLite baseline runs claimNext and completeKeepingColumns word for word")
    func sqliteStatements() throws {
        let source = try String(contentsOf: Self.script, encoding: .utf8)
        #expect(Self.squeezed(try Self.constant("SQLITE_CLAIM", in: source)) == Self.squeezed(Statements.claimNext.sql))
        #expect(
            Self.squeezed(try Self.constant("SQLITE_COMPLETE", in: source))
                == Self.squeezed(Statements.completeKeepingColumns.sql))
    }

    @Test("the PostgreSQL baseline runs beginClaim, claimNext and completeKeepingColumns word for word")
    func postgresStatements() throws {
        let source = try String(contentsOf: Self.script, encoding: .utf8)
        let now = try Self.constant("POSTGRES_NOW", in: source)
        let claim = try Self.constant("POSTGRES_CLAIM", in: source).replacingOccurrences(of: "{now}", with: now)
        let complete = try Self.constant("POSTGRES_COMPLETE", in: source).replacingOccurrences(of: "{now}", with: now)
        #expect(
            Self.squeezed(claim)
                == Self.squeezed(Self.named(Statements.claimNext.postgresSQL, ["worker", "now", "lease", "max_in_flight", "host"])))
        #expect(
            Self.squeezed(complete)
                == Self.squeezed(Self.named(Statements.completeKeepingColumns.postgresSQL, ["id", "token", "now"])))
        #expect(Self.squeezed(try Self.constant("POSTGRES_BEGIN_CLAIM", in: source)) == Self.squeezed(Statements.beginClaim.postgresSQL))
    }
}
