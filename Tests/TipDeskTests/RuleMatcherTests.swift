import Foundation
import Testing
import TipCore

@testable import TipDesk

/// `RuleMatcher` (one table for the whole rule set) must suggest exactly what the matcher it
/// replaced did (`RuleReference.swift`), on the corpus and on texts made of the rules' own terms.
@Suite struct RuleMatcherTests {
    static let rules = try! Rules.bundled()

    func rules(_ json: String) throws -> Rules { try Rules.decode(Data(json.utf8)) }

    func expectSame(_ r: Rules, _ body: String, fields: [String: String] = [:], lang: String? = nil, _ note: String = "") {
        let s = r.suggest(body: body, fields: fields, lang: lang)
        #expect(s == r.referenceSuggest(body: body, fields: fields, lang: lang), "\(note) \(body) \(fields) \(lang ?? "-")")
    }

    @Test func corpusAndHandWrittenAsBefore() {
        for t in LabelledTip.corpus + handWritten {
            expectSame(Self.rules, t.body, fields: t.fields, lang: t.lang)
            expectSame(Self.rules, t.body, fields: t.fields, lang: nil)
        }
    }

    /// Texts stitched from the bundled rules' terms, with endings, case, punctuation, numbers,
    /// phrases broken across body and field, and languages that do and do not apply.
    @Test func generatedTextsAsBefore() {
        var terms = Self.rules.rules.flatMap { $0.any + $0.all.flatMap { $0.split(separator: "|").map(String.init) } }
        terms = terms.map { $0.replacingOccurrences(of: "$", with: "").replacingOccurrences(of: "#minor", with: "15") }
        let glue = [" ", ", ", " the ", "\n", " — ", "' ", " 3 ", " 17 ", " 18 ", " 0 ", "-", " ", " ", " "]
        let endings = ["", "", "", "a", "ов", "lari", "ing", "s", "ни", "ey"]
        let langs: [String?] = [nil, "ru", "uz-Latn", "UZ", "uzb", "en", "tg", "ky", "uk", "uz-Cyrl"]
        var rng = SystemRandomNumberGenerator()
        var differ = 0
        for i in 0..<4000 {
            var body = ""
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                var t = terms.randomElement(using: &rng)!
                if Bool.random(using: &rng) { t = t.uppercased() }
                body += t + endings.randomElement(using: &rng)! + glue.randomElement(using: &rng)!
            }
            var fields = [String: String]()
            if i % 3 == 0 {
                // The second half of a phrase in a field: not a match across texts.
                let words = terms.randomElement(using: &rng)!.split(separator: " ")
                body += " " + words.prefix(1).joined()
                fields["where"] = words.dropFirst().joined(separator: " ")
            }
            let lang = langs.randomElement(using: &rng)!
            let s = Self.rules.suggest(body: body, fields: fields, lang: lang)
            if s != Self.rules.referenceSuggest(body: body, fields: fields, lang: lang) { differ += 1 }
            expectSame(Self.rules, body, fields: fields, lang: lang)
            if differ > 5 { break }
        }
    }

    @Test func phraseEdgeCases() throws {
        let r = try rules(
            ##"""
            {"v":1,"rules":[
              {"id":"twice","urgency":"low","any":["very very$"]},
              {"id":"age","urgency":"high","any":["a #minor b"]},
              {"id":"stem","urgency":"normal","any":["right now","rig"]},
              {"id":"exact","urgency":"critical","any":["right$ now$"]}]}
            """##)
        for body in [
            "very very", "very", "very verys", "so very very much", "right right now", "rightly nowhere", "right nowhere",
            "a 5 b", "a 18 b", "a 05 b", "a 5 5 b", "A 9 Bee", "x right", "now right", "right now right now", "ri",
        ] {
            expectSame(r, body)
            expectSame(r, "x", fields: ["a": body, "b": "now"])
        }
        #expect(r.suggest(body: "right right now").matched == ["stem", "exact"])
        #expect(r.suggest(body: "very very").matched == ["twice"])
        #expect(r.suggest(body: "very verys").matched == [])
        #expect(r.suggest(body: "a 5 5 b").matched == [])
        #expect(r.suggest(body: "right", fields: ["k": "now"]).matched == ["stem"])  // "rig" alone
    }
}
