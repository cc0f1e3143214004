import Foundation
import TipCore
import TipCrypto

/// The stable `--json` shape of `tipdesk list`, `search` and `show` (README, "Reviewer"): an
/// array of objects with sorted keys, in the command's order.
///
///     {"acked":false,"body":"…","day":"YYYY-MM-DD","fields":{…},"id":"<32 hex>","instance":"<32 hex>",
///      "key_id":"<16 hex>","lang":"ru","size_class":1024,
///      "suggestion":{"category":"…"|null,"rules":["…"],"urgency":"…"|null},
///      "triage":{"assignee":null,"category":null,"notes":[{"day":"…","text":"…"}],"status":"new","tags":[],"urgency":null}}
///
/// `body`, `fields` (`{}` when none), `lang` (when the tip has one) and `triage` are present for
/// a tip that opened; `error` replaces them for one that did not. Every member
/// of `triage` is always present, `null` when unset. `suggestion` appears only where asked for
/// (`show`) and the rules suggest something.
public enum TipJSON {
    struct Entry: Encodable {
        var id: String
        var day: String
        var key_id: String
        var instance: String
        var size_class: Int
        var acked: Bool
        var lang: String?
        var fields: [String: String]?
        var body: String?
        var error: String?
        var triage: TriageJSON?
        var suggestion: SuggestionJSON?
        var forward: ForwardJSON?
        /// Present, true, on a tip that arrived as a forward (`list`, `search`).
        var forwarded: Bool?
    }

    /// `show` of a tip that arrived as a forward (SECURITY.md §11.5): the verification, and what
    /// the sender said, which is only the sender's word unless `status` is `verified`.
    struct ForwardJSON: Encodable {
        var status: String
        var message: String
        var org: String?
        var root_fingerprint: String?
        var forward_id: String
        var note: String?
        var category: String?
        var urgency: String?
        var day: String
    }

    struct TriageJSON: Encodable {
        let t: Triage
        enum K: String, CodingKey { case assignee, category, notes, status, tags, urgency }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: K.self)
            try c.encode(t.assignee, forKey: .assignee)
            try c.encode(t.category, forKey: .category)
            try c.encode(t.notes, forKey: .notes)
            try c.encode(t.status, forKey: .status)
            try c.encode(t.tags, forKey: .tags)
            try c.encode(t.urgency, forKey: .urgency)
        }
    }

    struct SuggestionJSON: Encodable {
        let s: Rules.Suggestion
        enum K: String, CodingKey { case category, rules, urgency }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: K.self)
            try c.encode(s.category, forKey: .category)
            try c.encode(s.matched, forKey: .rules)
            try c.encode(s.urgency, forKey: .urgency)
        }
    }

    public static func encode(
        _ tips: [OpenedTip], suggestions: [TipID: Rules.Suggestion] = [:], forwards: [TipID: ReceivedForward] = [:],
        forwarded: Set<TipID> = []
    ) -> String {
        let entries = tips.map { t -> Entry in
            var e = Entry(
                id: t.id.hex, day: t.day.text, key_id: t.keyID.hex, instance: t.instance, size_class: t.sizeClass, acked: t.acked)
            if forwarded.contains(t.id) || forwards[t.id] != nil { e.forwarded = true }
            switch t.result {
            case .success(let d):
                e.lang = d.lang
                e.fields = d.fields
                e.body = d.body
                e.triage = TriageJSON(t: t.triage ?? .untouched)
                e.suggestion = suggestions[t.id].map(SuggestionJSON.init)
                e.forward = forwards[t.id].map { f in
                    ForwardJSON(
                        status: f.verification.status.rawValue, message: f.verification.message, org: f.verification.org,
                        root_fingerprint: f.verification.rootFingerprint, forward_id: f.forwardID, note: f.document.note,
                        category: f.document.category, urgency: f.document.urgency, day: f.document.day.text)
                }
            case .failure(let err):
                e.error = err.message
            }
            return e
        }
        return escaped(encoded(entries))
    }

    /// One value as one line of JSON, escaped like the rest (`tipdesk forwards --json`).
    public static func line<T: Encodable>(_ value: T) -> String { escaped(encoded(value)) }

    /// One triage as the `triage` member above (`tipdesk triage --json`).
    public static func encode(_ triage: Triage) -> String { escaped(encoded(TriageJSON(t: triage))) }

    static func encoded<T: Encodable>(_ value: T) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! enc.encode(value), as: UTF8.self)
    }

    /// JSON leaves C1 controls and bidi overrides raw; escape them so JSON printed to a
    /// terminal is as safe as the text output (SECURITY.md §3.6).
    static func escaped(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u.value {
            case 0x7f...0x9f:
                out += String(format: "\\u%04x", u.value)
            case _ where TerminalText.isBidiControl(u):
                out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
