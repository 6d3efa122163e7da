import Testing

@testable import ImageStore

@Suite("Control characters are escaped before they reach a terminal or images.error")
struct SafeTextTests {
    @Test(
        "controls, C1 and reordering characters are escaped",
        arguments: [
            ("\u{1B}[2J\u{1B}]0;pwned\u{07}", "\\x1b[2J\\x1b]0;pwned\\x07"),
            ("a\r\nb\tc\0d\u{7F}", "a\\x0d\\x0ab\\x09c\\x00d\\x7f"),
            ("csi\u{9B}31m", "csi\\u{009b}31m"),
            ("evil\u{202E}gpj.exe", "evil\\u{202e}gpj.exe"),
            ("line\u{2028}break", "line\\u{2028}break"),
        ])
    func escapes(input: String, expected: String) {
        #expect(SafeText.escaping(input) == expected)
    }

    @Test("printable text, non-ASCII letters and backslashes are kept")
    func keeps() {
        for text in ["pull docker.io/library/alpine:3.20: manifest unknown", "café/日本語 ✓", #"C:\path \x1b"#, ""] {
            #expect(SafeText.escaping(text) == text)
        }
    }

    @Test("no escaped text holds a control character, and escaping twice changes nothing")
    func idempotent() {
        let hostile = String((0..<0x100).compactMap { Unicode.Scalar($0).map(Character.init) })
        let once = SafeText.escaping(hostile)
        #expect(!once.unicodeScalars.contains(where: SafeText.needsEscape))
        #expect(SafeText.escaping(once) == once)
    }
}
