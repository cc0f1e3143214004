/// Makes tip text safe to print to a terminal (SECURITY-REQUIREMENTS.md 10).
///
/// A tip is hostile input. Escape sequences could rewrite the screen, hide text or, on some
/// terminals, run commands; bidirectional overrides could make one id look like another. Every
/// C0 and C1 control (but newline and tab, where allowed), DEL and the bidi controls become
/// U+FFFD, so the reviewer sees that something was there.
public enum TerminalText {
    public static func sanitize(_ s: String, multiline: Bool = true) -> String {
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            switch u.value {
            case 0x0a, 0x09:
                out.append(multiline ? u : " ")
            case 0x00...0x1f, 0x7f...0x9f:
                out.append("\u{FFFD}")
            case _ where isBidiControl(u):
                out.append("\u{FFFD}")
            default:
                out.append(u)
            }
        }
        return String(out)
    }

    /// The bidirectional controls: marks, embeddings, overrides and isolates.
    public static func isBidiControl(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x200e, 0x200f, 0x202a...0x202e, 0x2066...0x2069, 0x061c: true
        default: false
        }
    }

    /// A one-line preview of at most `limit` characters.
    public static func preview(_ s: String, limit: Int = 60) -> String {
        // Only the head is looked at: a list of 40k hits must not sanitize and count every
        // body in full (issue 9's profile of a search).
        guard let cut = s.index(s.startIndex, offsetBy: limit, limitedBy: s.endIndex), cut != s.endIndex else {
            return sanitize(s, multiline: false)
        }
        return sanitize(String(s[..<s.index(before: cut)]), multiline: false) + "…"
    }
}
