/// Makes text from outside (registry error bodies, tar entry names, URLs a registry chose)
/// safe to show on a terminal and to store in `images.error`.
///
/// Every error message passes through ``escaping(_:)`` where it is recorded (the worker's
/// settle step, so the row's `error`, `error_kind` and the log line) and where the CLI prints
/// it, so no error description has to remember it. Escaped: C0 controls (ESC, CR, LF, BEL, NUL,
/// …) and DEL as `\xHH`, C1 controls (U+0080–U+009F, which some terminals take as CSI) and the
/// bidirectional and line-breaking format characters (U+061C, U+200E–U+200F, U+2028–U+202E,
/// U+2066–U+2069, which reorder or split what a person reads) as `\u{HHHH}`. Everything else,
/// printable non-ASCII included, is kept. A backslash is kept as is: the output is for
/// reading, not for unescaping.
public enum SafeText {
    /// `text` with every control and reordering character escaped.
    public static func escaping(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count + 16)
        for scalar in text.unicodeScalars {
            if !needsEscape(scalar) {
                result.unicodeScalars.append(scalar)
            } else if scalar.value < 0x80 {
                result += "\\x" + hex(scalar.value, digits: 2)
            } else {
                result += "\\u{" + hex(scalar.value, digits: 4) + "}"
            }
        }
        return result
    }

    /// Whether `scalar` must not reach a terminal as is.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x061C, 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
