import Foundation
import Testing

@testable import TipCore

/// The no-JS path's document builder (SECURITY.md §3.7): its output must be a valid v1 tip
/// document equal to what the JS path would send for the same input.
@Suite struct FormDocumentTests {
    static let langs: Set<String> = ["en", "ru", "uz"]

    func build(_ form: String) throws -> (TipDocument, String?) {
        let bytes = Array(form.utf8)
        var scratch = [UInt8](repeating: 0, count: bytes.count)
        var out = [UInt8](repeating: 0, count: FormDocument.outputCapacity(forFormLength: bytes.count))
        let built = try bytes.withUnsafeBytes { f in
            try scratch.withUnsafeMutableBytes { s in
                try out.withUnsafeMutableBytes { o in try FormDocument.build(form: f, scratch: s, output: o, languages: Self.langs) }
            }
        }
        return (try TipDocument.decode(Data(out.prefix(built.length))), built.lang)
    }

    func code(_ form: String) -> String? {
        do {
            _ = try build(form)
            return nil
        } catch let e as FormatError {
            return e.code
        } catch {
            return "other"
        }
    }

    func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed)!
    }

    @Test func buildsTheSameDocumentAsTheJSPath() throws {
        let body = "Паспорта забрали.\r\nOʻzbekistonlik \"ayollar\" \\ tab\there \u{1}"
        let form = "lang=ru&body=\(encode(body))&where=\(encode("ул. Ленина 5"))&when=&kind=forced_labour&contact=&submit=x"
        let (doc, lang) = try build(form)
        #expect(lang == "ru")
        #expect(
            doc
                == (try TipDocument(
                    body: body.replacingOccurrences(of: "\r\n", with: "\n"), fields: ["where": "ул. Ленина 5", "kind": "forced_labour"],
                    lang: "ru")))
    }

    @Test func plusIsSpaceAndFieldOrderDoesNotMatter() throws {
        let (doc, lang) = try build("body=a+b%2Bc&lang=uz")
        #expect(doc.body == "a b+c")
        #expect(lang == "uz")
        #expect(doc.fields.isEmpty)
    }

    // One known-bad case per rule.
    @Test func refusals() {
        #expect(code("body=") == "empty_body")
        #expect(code("where=x") == "empty_body")
        #expect(code("body=+%0A%09") == "empty_body")
        #expect(code("body=" + String(repeating: "a", count: 262_145)) == "body_too_long")
        #expect(code("body=" + String(repeating: "a", count: 262_144)) == nil)
        #expect(code("body=x&where=" + String(repeating: "w", count: 4097)) == "bad_field")
        #expect(code("body=x&where=" + String(repeating: "w", count: 4096)) == nil)
        #expect(code("body=x&kind=slavery") == "invalid_form")
        #expect(code("body=x&lang=fr") == "bad_lang")
        #expect(code("body=x&body=y") == "invalid_form")
        #expect(code("body=%ZZ") == "invalid_form")
        #expect(code("body=%4") == "invalid_form")
        #expect(code("body=%C0%AF") == "invalid_form", "overlong UTF-8")
        #expect(code("body=%ED%A0%80") == "invalid_form", "a UTF-16 surrogate")
        #expect(code("body=%F4%90%80%80") == "invalid_form", "above U+10FFFF")
        #expect(code("body=%E2%82") == "invalid_form", "truncated sequence")
        #expect(code("body=%F0%9F%98%80") == nil, "an emoji is fine")
    }

    @Test func controlCharactersAreEscapedNotDropped() throws {
        let (doc, _) = try build("body=a%00b%1Fc%7Fd")
        #expect(doc.body == "a\u{0}b\u{1f}c\u{7f}d")
    }
}
