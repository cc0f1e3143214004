import Foundation
import Testing

@testable import TipCore

@Suite struct PaddingSizeTests {
    // SECURITY.md §3.3: the smallest power of two ≥ 1024 holding the document plus one byte.
    @Test(arguments: [(0, 1024), (1, 1024), (1023, 1024), (1024, 2048), (2047, 2048), (2048, 4096), (262_144, 524_288)])
    func sizeClass(length: Int, expected: Int) {
        #expect(PaddedSize.forDocument(length: length) == expected)
    }

    @Test func validSizes() {
        #expect(PaddedSize.isValid(1024, maximum: 1 << 20))
        #expect(PaddedSize.isValid(1 << 20, maximum: 1 << 20))
        #expect(!PaddedSize.isValid(512, maximum: 1 << 20))
        #expect(!PaddedSize.isValid(3072, maximum: 1 << 20))
        #expect(!PaddedSize.isValid(1 << 21, maximum: 1 << 20))
        #expect(!PaddedSize.isValid(0, maximum: 1 << 20))
        #expect(!PaddedSize.isValid(-1024, maximum: 1 << 20))
    }
}

@Suite struct TipDocumentTests {
    func code(_ f: () throws -> Void) -> String? {
        do {
            try f()
            return nil
        } catch let e as FormatError {
            return e.code
        } catch {
            return "other"
        }
    }

    // One known-good and one known-bad case per limit in SECURITY.md §3.2.
    @Test func bodyLimits() {
        #expect(code { _ = try TipDocument(body: "x") } == nil)
        #expect(code { _ = try TipDocument(body: String(repeating: "a", count: 262_144)) } == nil)
        #expect(code { _ = try TipDocument(body: String(repeating: "a", count: 262_145)) } == "body_too_long")
        // The limit is in UTF-8 bytes, not characters: 131,073 two-byte letters are too many.
        #expect(code { _ = try TipDocument(body: String(repeating: "ж", count: 131_072)) } == nil)
        #expect(code { _ = try TipDocument(body: String(repeating: "ж", count: 131_073)) } == "body_too_long")
        #expect(code { _ = try TipDocument(body: "") } == "empty_body")
    }

    @Test func fieldLimits() {
        let ok = Dictionary(uniqueKeysWithValues: (0..<32).map { ("k\($0)", "v") })
        #expect(code { _ = try TipDocument(body: "x", fields: ok) } == nil)
        var tooMany = ok
        tooMany["k32"] = "v"
        #expect(code { _ = try TipDocument(body: "x", fields: tooMany) } == "too_many_fields")
        #expect(code { _ = try TipDocument(body: "x", fields: [String(repeating: "k", count: 64): "v"]) } == nil)
        #expect(code { _ = try TipDocument(body: "x", fields: [String(repeating: "k", count: 65): "v"]) } == "bad_field")
        #expect(code { _ = try TipDocument(body: "x", fields: ["": "v"]) } == "bad_field")
        #expect(code { _ = try TipDocument(body: "x", fields: ["k": String(repeating: "v", count: 4096)]) } == nil)
        #expect(code { _ = try TipDocument(body: "x", fields: ["k": String(repeating: "v", count: 4097)]) } == "bad_field")
    }

    @Test func lang() {
        for good in ["en", "ru", "uz-Latn", "uz-Cyrl", "ky", "tg"] {
            #expect(code { _ = try TipDocument(body: "x", lang: good) } == nil)
        }
        for bad in ["", "ru ru", "<script>", String(repeating: "a", count: 36), "рус"] {
            #expect(code { _ = try TipDocument(body: "x", lang: bad) } == "bad_lang")
        }
    }

    @Test func roundTrip() throws {
        let doc = try TipDocument(body: "Паспорта забрали\n", fields: ["where": "ул. Гагарина"], lang: "ru")
        #expect(try TipDocument.decode(doc.encoded()) == doc)
        // Without fields, the member is omitted rather than written empty.
        #expect(String(decoding: try TipDocument(body: "x").encoded(), as: UTF8.self) == #"{"body":"x","v":1}"#)
    }
}

@Suite struct EncodingTests {
    @Test func strictBase64() {
        #expect(StrictBase64.decode("AAAA") == Data([0, 0, 0]))
        #expect(StrictBase64.decode("AA==") == Data([0]))
        #expect(StrictBase64.decode("AB==") == nil, "stray bits: non-canonical")
        #expect(StrictBase64.decode("AA") == nil, "no padding")
        #expect(StrictBase64.decode("AA=\n") == nil)
        #expect(StrictBase64.decode("AA AA") == nil)
        #expect(StrictBase64.decode("-_==") == nil, "URL alphabet")
        #expect(StrictBase64.decode("") == Data())
    }

    @Test func ids() {
        #expect(KeyID("0123456789abcdef") != nil)
        #expect(KeyID("0123456789ABCDEF") == nil)
        #expect(KeyID("0123456789abcde") == nil)
        #expect(TipID(String(repeating: "a", count: 32)) != nil)
        #expect(TipID(String(repeating: "g", count: 32)) == nil)
        #expect(Hex.decode("00ff10") == [0, 255, 16])
        #expect(Hex.encode([0, 255, 16]) == "00ff10")
    }

    @Test func days() {
        #expect(Day("2026-11-29") != nil)
        #expect(Day("2026-13-01") == nil)
        #expect(Day("2026-02-29") == nil)
        #expect(Day("2024-02-29") != nil)
        #expect(Day("2026-04-31") == nil)
        #expect(Day("2026-11-29T10:00") == nil)
        #expect(Day(Date(timeIntervalSince1970: 0)).text == "1970-01-01")
        // Coarsening: any time in one UTC day gives the same day (SECURITY.md §4.2).
        #expect(Day(Date(timeIntervalSince1970: 86_399)).text == "1970-01-01")
        #expect(Day(Date(timeIntervalSince1970: 86_400)).text == "1970-01-02")
    }

    @Test func keyDocumentShape() throws {
        let good = Data(#"{"v":1,"key_id":"ba5d987fcd4768d2","public_key":"PadVJ4+IOzE/Vb5A/PP510aVbX0d1qnpWDcFSiT5fnM=","fingerprint":"x"}"#.utf8)
        #expect(throws: Never.self) { try PublicKeyDocument.decode(good) }
        let short = Data(#"{"v":1,"key_id":"ba5d987fcd4768d2","public_key":"AAAA","fingerprint":"x"}"#.utf8)
        #expect(throws: FormatError("invalid_public_key", "public_key must be 32 bytes in standard base64")) {
            try PublicKeyDocument.decode(short)
        }
    }
}
