import Foundation
import Testing
import TipCore
import TipCrypto

@testable import TipDesk

/// The hand-written record plaintext must be byte for byte what `RecordBox.seal`'s encoder
/// writes (SECURITY.md §10.2), so the vault format does not change with it.
@Suite struct RecordPlaintextTests {
    func encoder(_ doc: TipDocument) -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let plain = RecordBox.Plain(
            v: 1, document: RecordBox.Document(body: doc.body, fields: doc.fields.isEmpty ? nil : doc.fields, lang: doc.lang),
            triage: .untouched)
        return Array(try! enc.encode(plain))
    }

    static let pieces: [String] = {
        var p = (0..<0x80).map { String(Unicode.Scalar(UInt8($0))) }
        p += ["é", "e\u{301}", "ж", "ҳ", "oʻ", "😀", "\u{2028}", "\u{2029}", "\u{85}", "\u{9f}", "\u{feff}", "\u{202e}", "Ω", "\u{2126}", "Å", "\u{212b}"]
        p += ["паспорт", "pasport", "</script>", "\\u0000", "\"quoted\"", "a/b", " ", "\r\n"]
        return p
    }()

    func text(_ n: ClosedRange<Int>) -> String { (0..<Int.random(in: n)).map { _ in Self.pieces.randomElement()! }.joined() }

    @Test func sameBytesAsTheEncoder() throws {
        for i in 0..<3000 {
            var fields = [String: String]()
            for _ in 0..<(i % 4 == 0 ? 0 : Int.random(in: 1...6)) {
                let k = String(text(1...4).utf8.prefix(60))!
                if !k.isEmpty { fields[k] = text(0...8) }
            }
            let body = text(1...40)
            let lang = ["ru", "uz-Latn", nil, "EN"].randomElement()!
            guard let doc = try? TipDocument(body: body, fields: fields, lang: lang) else { continue }
            #expect(RecordPlaintext.untouched(doc) == encoder(doc), "\(doc)")
        }
        let fixed = try TipDocument(body: "x", fields: ["f": "1", "e\u{301}": "2", "E": "3", "ё": "4", "_": "5", "a10": "6", "a9": "7"])
        #expect(RecordPlaintext.untouched(fixed) == encoder(fixed))
    }

    @Test func sealedRecordOpens() throws {
        let key = VaultDataKey.generate()
        let doc = try TipDocument(body: "Паспорта забрали\n\"boss\" \\ /", fields: ["where": "ул. Гагарина", "contact": "+7"], lang: "ru")
        let id = Random.tipID()
        let box = RecordPlaintext.sealUntouched(doc, id: id, key: key)
        let (opened, triage) = try RecordBox.open(box, id: id, key: key)
        #expect(opened == doc && triage == .untouched)
    }
}
