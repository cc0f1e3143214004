import Foundation
import Testing

@testable import TipCore

/// The tip document's plain reader (`TipDocument.plain`, issue 9) against the strict one it
/// stands in front of: whatever the plain reader reads (or refuses with a limit), the strict
/// reader must read the same (or refuse with the same code); anything else it must leave.
@Suite struct DocumentFastPathTests {
    enum Outcome: Equatable {
        case document(TipDocument)
        case refused(String)
        case left
    }

    static func plain(_ d: Data) -> Outcome {
        do { return try d.withUnsafeBytes(TipDocument.plain).map(Outcome.document) ?? .left } catch let e as FormatError {
            return .refused(e.code)
        } catch { return .refused("\(error)") }
    }

    static func strict(_ d: Data) -> Outcome {
        do { return .document(try TipDocument.strict(d)) } catch let e as FormatError { return .refused(e.code) } catch {
            return .refused("\(error)")
        }
    }

    /// The plain reader agrees with the strict one, or leaves the document to it.
    static func agree(_ d: Data, _ label: @autoclosure () -> String) {
        let p = plain(d)
        if p != .left { #expect(p == strict(d), "\(label()): \(String(decoding: d, as: UTF8.self).prefix(80))") }
    }

    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    /// The corpus's six languages, as our sealers write them.
    static func corpus() throws -> [TipDocument] {
        let text = try String(contentsOf: here.appendingPathComponent("../Fixtures/corpus-tips.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return try TipDocument(body: o["body"] as! String, fields: o["fields"] as? [String: String] ?? [:], lang: o["lang"] as? String)
        }
    }

    /// As the page writes it: `JSON.stringify` of `{v, body, fields, lang}` in that order.
    static func likeThePage(_ doc: TipDocument) -> Data {
        func s(_ t: String) -> String {
            var o = "\""
            for c in t.unicodeScalars {
                switch c {
                case "\"": o += "\\\""
                case "\\": o += "\\\\"
                case "\n": o += "\\n"
                case "\r": o += "\\r"
                case "\t": o += "\\t"
                case "\u{08}": o += "\\b"
                case "\u{0c}": o += "\\f"
                case _ where c.value < 0x20: o += String(format: "\\u%04x", c.value)
                default: o.unicodeScalars.append(c)
                }
            }
            return o + "\""
        }
        var out = "{\"v\":1,\"body\":" + s(doc.body)
        if !doc.fields.isEmpty {
            out += ",\"fields\":{" + doc.fields.map { s($0.key) + ":" + s($0.value) }.joined(separator: ",") + "}"
        }
        if let lang = doc.lang { out += ",\"lang\":" + s(lang) }
        return Data((out + "}").utf8)
    }

    @Test func everyFormOurSealersWriteIsReadPlainly() throws {
        var docs = try Self.corpus()
        #expect(docs.count >= 6)
        docs.append(try TipDocument(body: "quote \" backslash \\ slash / tab \t cr \r lf \n bs \u{08} ff \u{0c} end"))
        docs.append(try TipDocument(body: "x", fields: ["where": "ул. Гагарина 12", "when": "вчера"], lang: "uz-Latn"))
        for doc in docs {
            for form in [doc.encoded(), Self.likeThePage(doc)] {
                #expect(Self.plain(form) == .document(doc), "\(String(decoding: form, as: UTF8.self).prefix(60))")
                #expect(Self.strict(form) == .document(doc))
            }
        }
    }

    @Test func whatItLeavesToTheStrictReader() {
        for s in [
            #"{"v":1,"body":"a\u0062"}"#, #" {"v":1,"body":"a"}"#, #"{"v": 1,"body":"a"}"#, #"{"v":1.0,"body":"a"}"#,
            #"{"v":2,"body":"a"}"#, #"{"v":10,"body":"a"}"#, #"{"body":"a"}"#, #"{"v":1}"#, #"{"v":1,"body":"a","x":1}"#,
            #"{"v":1,"body":"a","body":"b"}"#, #"{"v":1,"v":1,"body":"a"}"#, #"{"v":1,"body":"a","fields":{"k":"1","k":"2"}}"#,
            "{\"v\":1,\"body\":\"a\",\"fields\":{\"\u{e9}\":\"1\",\"e\u{301}\":\"2\"}}", #"{"v":1,"body":"a"} "#,
            #"{"v":1,"body":"a",}"#, #"{"v":1,"body":"a\x"}"#, "{\"v\":1,\"body\":\"a\u{01}\"}", #"{"v":1,"body":"a","fields":[]}"#,
            #"{"v":1,"body":"a","lang":null}"#, #"{"v":1,"body":"a""#, "",
        ] {
            #expect(Self.plain(Data(s.utf8)) == .left, "\(s)")
        }
        #expect(Self.plain(Data([0x7b, 0x22, 0x76, 0x22, 0x3a, 0x31, 0x2c, 0x22, 0x62, 0x6f, 0x64, 0x79, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])) == .left)
    }

    @Test func limitsAreRefusedWithTheStrictReadersCodes() {
        for (s, code) in [
            (#"{"v":1,"body":""}"#, "empty_body"), (#"{"v":1,"body":"a","lang":"r u"}"#, "bad_lang"),
            (#"{"v":1,"body":"a","fields":{"":"x"}}"#, "bad_field"),
        ] {
            #expect(Self.plain(Data(s.utf8)) == .refused(code), "\(s)")
            #expect(Self.strict(Data(s.utf8)) == .refused(code), "\(s)")
        }
    }

    /// The plaintext vectors' documents (Tests/Vectors/plaintext), unpadded.
    @Test func vectorsAgree() throws {
        let dir = Self.here.appendingPathComponent("../Vectors/plaintext")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".txt") }
        #expect(names.count >= 20)
        for name in names {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            let b64 = text.split(separator: "\n").last.map(String.init) ?? ""
            guard var bytes = Data(base64Encoded: b64).map(Array.init) else { continue }
            while let last = bytes.last, last == 0 { bytes.removeLast() }
            if bytes.last == 0x80 { bytes.removeLast() }
            Self.agree(Data(bytes), name)
        }
    }

    /// Every document one byte away from a few plain ones: each byte replaced by each of
    /// bytes that matter to JSON, UTF-8 or the reader, and each byte dropped.
    @Test func oneByteAwayAgrees() throws {
        let seeds = [
            Data(#"{"v":1,"body":"a\"b\\c\nd","fields":{"k":"v","w":"x\/y"},"lang":"ru"}"#.utf8),
            try TipDocument(body: "Паспорта забрали.\tO‘zbek", fields: ["a": "b"], lang: "tg").encoded(),
        ]
        let replacements: [UInt8] = [
            0x00, 0x09, 0x0a, 0x20, 0x22, 0x2c, 0x2f, 0x31, 0x32, 0x3a, 0x5c, 0x5b, 0x5d, 0x62, 0x6e, 0x75, 0x7b, 0x7d, 0x7f, 0x80, 0xc3, 0xd0, 0xff,
        ]
        var checked = 0
        for seed in seeds {
            let b = [UInt8](seed)
            for i in b.indices {
                for r in replacements where r != b[i] {
                    var m = b
                    m[i] = r
                    Self.agree(Data(m), "byte \(i) -> \(r)")
                    checked += 1
                }
                var d = b
                d.remove(at: i)
                Self.agree(Data(d), "byte \(i) dropped")
            }
        }
        #expect(checked > 2000)
    }
}
