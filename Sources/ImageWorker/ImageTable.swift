import Foundation
import ImageStore

/// The compact table of `image-worker list` (and of `make demo`): one line per image, at most
/// ``maximumWidth`` columns, so it never wraps in a terminal. Digests and disk file names are
/// shortened to 12 hex digits, the disk path is relative to the data directory, and when the
/// lines are still too long the name and the disk/error cell are cut (`…`), widest first:
/// names and paths keep their end (repository, tag, file name), errors their start. The full
/// values are in `list --json`, `status REF` and the image_status view.
struct ImageTable {
    /// Widest line printed.
    static let maximumWidth = 100

    static let header = ["NAME", "FORMAT", "STATUS", "POS", "SIZE", "DISK / ERROR"]

    /// The data directory disk paths are shown relative to.
    let dataDirectory: URL

    /// The lines of the table, header first.
    func lines(_ images: [Image]) -> [String] {
        var rows = [Self.header] + images.map(cells)
        var widths = Self.header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        let shrinkable = [0, 5]
        let separators = 2 * (widths.count - 1)
        while widths.reduce(separators, +) > Self.maximumWidth {
            guard let widest = shrinkable.max(by: { widths[$0] < widths[$1] }), widths[widest] > 12 else { break }
            widths[widest] -= 1
        }
        // Names and paths keep their end (repository, tag, file name); errors their start
        // (subject and what happened).
        rows = [rows[0]] + zip(images, rows.dropFirst()).map { image, row in
            row.enumerated().map { column, cell in
                column == 5 && image.diskPath == nil
                    ? Self.truncatingTail(cell, to: widths[column]) : Self.truncatingHead(cell, to: widths[column])
            }
        }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }

    private func cells(_ image: Image) -> [String] {
        let detail: String
        if let path = image.diskPath {
            detail = Self.shortenedHex(relative(path))
        } else if let error = image.error {
            detail = error
        } else if image.status.isInFlight, let total = image.bytesTotal, total > 0 {
            let verb = image.status == .pulling ? "downloaded" : "applied"
            detail = "\(Self.size(image.bytesDone)) of \(Self.size(total)) \(verb)"
        } else {
            detail = ""
        }
        // Names, paths and errors come from the database, which other services write: control
        // characters are escaped before they reach a terminal.
        return [
            Self.shortenedHex(image.name), image.format, image.status.rawValue,
            image.queuePosition.map(String.init) ?? "", image.sizeBytes.map(Self.size) ?? "", detail,
        ].map(SafeText.escaping)
    }

    private func relative(_ path: String) -> String {
        let root = dataDirectory.standardizedFileURL.path + "/"
        return path.hasPrefix(root) ? String(path.dropFirst(root.count)) : path
    }

    /// `12.3 MiB`, `512 KiB`, `0 B`.
    static func size(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: value < 10 ? "%.1f %@" : "%.0f %@", value, units[unit])
    }

    /// Every run of 64 hex digits (a SHA-256) cut to its first 12 and `…`.
    static func shortenedHex(_ text: String) -> String {
        var result = ""
        var run = ""
        func flush() {
            result += run.count == 64 ? String(run.prefix(12)) + "…" : run
            run = ""
        }
        for character in text {
            if character.isHexDigit && character.isASCII && !character.isUppercase {
                run.append(character)
            } else {
                flush()
                result.append(character)
            }
        }
        flush()
        return result
    }

    static func truncatingHead(_ text: String, to width: Int) -> String {
        guard text.count > width, width > 1 else { return text }
        return "…" + String(text.suffix(width - 1))
    }

    static func truncatingTail(_ text: String, to width: Int) -> String {
        guard text.count > width, width > 1 else { return text }
        return String(text.prefix(width - 1)) + "…"
    }
}
