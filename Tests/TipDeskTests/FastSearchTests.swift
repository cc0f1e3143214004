import Foundation
import Testing
import TipCore

@testable import TipDesk

/// The fast paths of search (issue 9) against their definitions: `FoldTable` against
/// `TextSearch.referenceNormalize`, byte matching against `String.contains` on reference-
/// normalized text, and `RecordScan` against `JSONDecoder`. No timing here: speed is measured
/// by `make bench` only.
@Suite struct FastSearchTests {
    /// The reference matcher: what search did before the fast path.
    static func referenceMatches(_ query: String, _ texts: [String]) -> Bool {
        let q = TextSearch.referenceNormalize(query).split(separator: " ")
        if q.isEmpty { return true }
        let n = texts.map(TextSearch.referenceNormalize)
        return q.allSatisfy { w in n.contains { $0.contains(w) } }
    }

    @Test func everyScalarOfTheBMPAndBeyondNormalizesLikeTheReference() {
        // Each scalar between two letters and between separators, so both the character and
        // how it joins or splits words are compared; in runs, to keep the reference calls few.
        var mismatches = [String]()
        for startValue in stride(from: 0, to: 0x30000, by: 64) {
            var s = ""
            for v in startValue..<(startValue + 64) {
                guard let u = Unicode.Scalar(UInt32(v)) else { continue }
                s += "a"
                s.unicodeScalars.append(u)
                s += "b "
                s.unicodeScalars.append(u)
                s += " "
            }
            if TextSearch.normalize(s) != TextSearch.referenceNormalize(s) { mismatches.append(String(startValue, radix: 16)) }
        }
        #expect(mismatches.isEmpty, "runs starting at U+\(mismatches.prefix(10))")
    }

    static let vocabulary = [
        "паспорт", "Паспорта", "qoʻyishgan", "qo'yishgan", "ҳужжат", "хужжат", "sauna", "САУНА", "ёлка", "елка", "ЁЛКА",
        "café", "cafe", "naïve", "Crème", "ß", "ǅ", "ŉ", "ﬁ", "①", "²", "Ⅻ", "ΣΑΣ", "οδός", "İstanbul", "ı",
        "कि", "क", "नमस्ते", "한국", "한", "하", "ᄒ", "日本", "🙏", "👩‍👩‍👧", "e\u{301}", "\u{301}", "a\u{0F7F}\u{0F72}",
        "\u{1D165}\u{1D16D}", "ـ", "مرحبا", "שלום", "–", "—", "‘", "’", "\u{200B}", "\u{200D}", "\u{FEFF}", "٣", "𝟘", "x",
        "don't", "вб'ють", ",", ".", "14-соларо",
    ]

    @Test func randomTextsNormalizeAndMatchLikeTheReference() {
        var rng = SplitMix(seed: 9)
        func phrase(_ n: Int) -> String {
            (0..<n).map { _ in Self.vocabulary[Int(rng.next() % UInt64(Self.vocabulary.count))] }
                .joined(separator: ["", " ", ", ", "-", "'"][Int(rng.next() % 5)])
        }
        for _ in 0..<3000 {
            let texts = (0..<(1 + Int(rng.next() % 3))).map { _ in phrase(1 + Int(rng.next() % 8)) }
            for t in texts { #expect(TextSearch.normalize(t) == TextSearch.referenceNormalize(t), "\(t)") }
            let query = phrase(1 + Int(rng.next() % 2))
            #expect(TextSearch.matches(query: query, in: texts) == Self.referenceMatches(query, texts), "\(query) in \(texts)")
        }
    }

    @Test func graphemeAndCanonicalCasesFollowTheReference() {
        // Foundation's matching does not split some clusters; the fast path defers to it.
        for (query, text) in [("क", "कि"), ("e", "é"), ("하", "한"), ("ᄒ", "한"), ("a", "a\u{0F7F}"), ("ı", "ıi")] {
            #expect(TextSearch.matches(query: query, in: [text]) == Self.referenceMatches(query, [text]), "\(query) in \(text)")
        }
    }

    @Test func invalidUTF8IsReportedNotGuessed() {
        var out = [UInt8]()
        for bad: [UInt8] in [[0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xD0]] {
            out.removeAll()
            let kind = bad.withUnsafeBufferPointer { FoldTable.shared.fold($0, into: &out) }
            #expect(kind == .invalid, "\(bad)")
        }
    }

    @Test func bytesContains() {
        func has(_ h: String, _ n: String) -> Bool { Array(h.utf8).withUnsafeBufferPointer { Bytes.contains($0, Array(n.utf8)) } }
        #expect(has("abcabd", "abd") && has("abc", "") && has("abc", "abc") && has("xaab", "aab"))
        #expect(!has("abc", "abcd") && !has("", "a") && !has("abc", "bd"))
    }

    // MARK: RecordScan

    static func plaintext(_ body: String, fields: [String: String]?, lang: String?, triage: String = #"{"notes":[],"status":"new","tags":[]}"#)
        -> [UInt8]
    {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let doc = RecordBox.Document(body: body, fields: fields, lang: lang)
        let d = String(decoding: try! enc.encode(doc), as: UTF8.self)
        return Array(#"{"document":\#(d),"triage":\#(triage),"v":1}"#.utf8)
    }

    static func scan(_ p: [UInt8]) -> [String]? {
        var out = [UInt8]()
        var ranges = [Range<Int>]()
        let ok = p.withUnsafeBufferPointer { RecordScan.texts($0, into: &out, ranges: &ranges) }
        return ok ? ranges.map { String(decoding: out[$0], as: UTF8.self) } : nil
    }

    @Test func recordScanReadsWhatJSONDecoderReads() throws {
        let cases: [(String, [String: String]?, String?)] = [
            ("plain", nil, nil),
            (
                "quote \" backslash \\ slash / newline \n tab \t bell \u{7} nul \u{0} bidi \u{202E} emoji 👩‍👩‍👧 ё",
                ["where": "Ош, \"базар\"", "contact": "+7 999"], "ru"
            ),
            (String(repeating: "ж", count: 5000), ["a": ""], "uz-Latn"),
        ]
        for (body, fields, lang) in cases {
            let p = Self.plaintext(body, fields: fields, lang: lang)
            let decoded = try JSONDecoder().decode(RecordBox.Plain.self, from: Data(p))
            let texts = try #require(Self.scan(p))
            #expect(texts.first == decoded.document.body)
            #expect(texts.dropFirst().sorted() == (decoded.document.fields ?? [:]).values.sorted())
        }
        // Escapes JSONEncoder does not write but JSON allows.
        let escaped = Array(#"{"document":{"body":"\u0041\u00e9\ud83d\ude4f\/"},"triage":{"a":[1,-2.5e3,true,null,{}]},"v":1}"#.utf8)
        #expect(Self.scan(escaped) == ["Aé🙏/"])
    }

    @Test func recordScanDefersAnythingElseToTheDecoder() {
        let good = #"{"document":{"body":"x"},"triage":{},"v":1}"#
        #expect(Self.scan(Array(good.utf8)) == ["x"])
        let refused = [
            #"{"document":{"body":"x"},"triage":{},"v":2}"#,
            #"{"document":{"body":"x"},"triage":{},"v":10}"#,
            #"{"document":{"body":"x"},"triage":{}}"#,
            #"{"document":{"body":""},"triage":{},"v":1}"#,
            #"{"document":{"body":"x","extra":1},"triage":{},"v":1}"#,
            #"{"document":{"body":"x"},"triage":{},"v":1,"more":0}"#,
            #"{"document":{"body":"x"},"triage":{},"v":1} x"#,
            #"{"document":{"body":"x","lang":"r u"},"triage":{},"v":1}"#,
            #"{"document":{"body":"x","fields":{"":"v"}},"triage":{},"v":1}"#,
            #"{"document":{"body":"x","fields":{"k":1}},"triage":{},"v":1}"#,
            #"{"document":{"body":"x\ud800"},"triage":{},"v":1}"#,
            #"{"document":{"body":"x\q"},"triage":{},"v":1}"#,
            "{\"document\":{\"body\":\"x\u{1}\"},\"triage\":{},\"v\":1}",
            #"{"document":{"body":"x"},"triage":{"a":01},"v":1}"#,
            #"{"document":{"body":"x"},"triage":[,],"v":1}"#,
            #"{"document":{"body":"x"},"document":{"body":"y"},"triage":{},"v":1}"#,
            #"{"document":{"body":"x"},"triage":{},"v":1"#,
            String(repeating: "[", count: 100),
        ]
        for r in refused { #expect(Self.scan(Array(r.utf8)) == nil, "\(r)") }
        let tooLong = Self.plaintext(String(repeating: "a", count: TipDocument.maxBodyBytes + 1), fields: nil, lang: nil)
        #expect(Self.scan(tooLong) == nil)
        let manyFields = Self.plaintext("x", fields: Dictionary(uniqueKeysWithValues: (0...TipDocument.maxFields).map { ("f\($0)", "v") }), lang: nil)
        #expect(Self.scan(manyFields) == nil)
    }
}
