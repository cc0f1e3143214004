import Foundation
import TipCore

/// The stable `--json` shape of `tipdesk list` and `show` (README, "Reviewer").
public enum TipJSON {
    struct Entry: Encodable {
        var id: String
        var day: String
        var key_id: String
        var lang: String?
        var fields: [String: String]?
        var body: String?
        var error: String?
    }

    public static func encode(_ tips: [OpenedTip]) -> String {
        let entries = tips.map { t -> Entry in
            switch t.result {
            case .success(let d):
                Entry(id: t.id.hex, day: t.day.text, key_id: t.keyID.hex, lang: d.lang, fields: d.fields, body: d.body)
            case .failure(let e):
                Entry(id: t.id.hex, day: t.day.text, key_id: t.keyID.hex, error: e.message)
            }
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let s = String(decoding: try! enc.encode(entries), as: UTF8.self)
        // JSON leaves C1 controls and bidi overrides raw; escape them so JSON printed to a
        // terminal is as safe as the text output.
        var out = ""
        for u in s.unicodeScalars {
            switch u.value {
            case 0x7f...0x9f, 0x200e, 0x200f, 0x202a...0x202e, 0x2066...0x2069, 0x061c:
                out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
