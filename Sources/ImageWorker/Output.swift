import Foundation
import ImageStore

/// stdout rendering shared by the commands: one JSON document, or a plain text table.
enum Output {
    /// Prints `value` as one JSON document with sorted keys.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    /// Prints `rows` under `header`, each column padded to its widest cell.
    /// Cells come from the database (names and errors other services may have written), so
    /// control characters are escaped before they reach the terminal.
    static func table(header: [String], rows: [[String]]) {
        let rows = rows.map { $0.map(SafeText.escaping) }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        let lines = ([header] + rows).map { cells in
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        line(lines.joined(separator: "\n"))
    }

    /// Prints one line on stderr, prefixed `image-worker: `, control characters escaped (paths
    /// inside an image tree may hold any byte).
    static func error(_ text: String) {
        FileHandle.standardError.write(Data("image-worker: \(SafeText.escaping(text))\n".utf8))
    }

    /// `pairs` as right-aligned `key = value` lines, what `sqlite3 -line` shows; values are
    /// escaped as table cells are.
    static func fields(_ pairs: [(String, String)]) -> String {
        let width = pairs.map(\.0.count).max() ?? 0
        return pairs.map {
            String(repeating: " ", count: width - $0.0.count) + $0.0 + " = " + SafeText.escaping($0.1)
        }.joined(separator: "\n")
    }

    /// Prints one line on stdout.
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
