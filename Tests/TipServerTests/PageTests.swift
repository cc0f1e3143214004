import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TipCore
import TipCrypto
import TipServer
import TipStore
import TipTestSupport

@Suite struct CatalogTests {
    // A translator edits one JSON file per language. Every key must exist in every language,
    // and no translation may be a copy of the English.
    @Test func everyKeyTranslatedInEveryLanguage() throws {
        let pages = try PageResources.load(naclPath: PageResources.defaultNaclPath)
        let en = pages.catalogs["en"]!
        #expect(en.count >= 30)
        for lang in PageResources.languages where lang != "en" {
            let c = try #require(pages.catalogs[lang])
            #expect(Set(c.keys) == Set(en.keys), "\(lang) keys differ: \(Set(en.keys).symmetricDifference(c.keys))")
            for (k, v) in c {
                #expect(!v.isEmpty, "\(lang).\(k) is empty")
                #expect(v != en[k], "\(lang).\(k) is a copy of the English")
            }
        }
    }

    @Test(arguments: [
        (nil, nil, "en"), ("ru", nil, "ru"), ("fr", nil, "en"), (nil, "en-US,en;q=0.5", "en"),
        (nil, "uz-Latn-UZ,ru;q=0.8", "uz"), (nil, "de,ky;q=0.7,ru;q=0.9", "ru"), ("tg", "ru", "tg"), (nil, "ru;q=0", "en"),
        // What a client may send that is not a language list: never a crash.
        (nil, ";", "en"), (nil, "ru,;", "ru"), (nil, ";;,;q=1", "en"), (nil, ",,", "en"), (nil, "", "en"), (nil, " ; ,uk", "uk"),
        (nil, "ru;q=nan,uk;q=inf", "uk"), (nil, "ky;q=", "ky"),
    ])
    func languageChoice(explicit: String?, accept: String?, expected: String) {
        #expect(PageResources.language(explicit: explicit, acceptLanguage: accept) == expected)
    }
}

@Suite struct PageTests {
    static let pageCSP =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; worker-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    static let plainPageCSP = "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

    func form(_ pairs: [(String, String)]) -> ByteBuffer {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return ByteBuffer(string: pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&"))
    }

    func post(_ client: any TestClientProtocol, _ body: ByteBuffer) async throws -> TestResponse {
        var h = HTTPFields()
        h[.contentType] = "application/x-www-form-urlencoded"
        return try await client.execute(uri: "/submit", method: .post, headers: h, body: body)
    }

    // Every page in every language: the page CSP, the language, and nothing inline that the
    // CSP would have to allow.
    @Test func pagesInEveryLanguage() async throws {
        let h = try Harness()
        try await h.run { client in
            for lang in PageResources.languages {
                for path in ["/?lang=\(lang)", "/received?lang=\(lang)", "/leave?lang=\(lang)"] {
                    let r = try await client.execute(uri: path, method: .get)
                    #expect(r.status == .ok)
                    #expect(r.headers[.contentSecurityPolicy] == (path.hasPrefix("/?") ? Self.pageCSP : Self.plainPageCSP), "\(path)")
                    #expect(r.headers[.setCookie] == nil)
                    #expect(r.text.contains("<html lang=\"\(lang)\">"), "\(path)")
                    for banned in ["<script>", " onclick=", " onload=", " onerror=", " style=", "javascript:", "http://", "//fonts."] {
                        #expect(!r.text.contains(banned), "\(banned) in \(path)")
                    }
                    for tag in r.text.components(separatedBy: "<script").dropFirst() {
                        #expect(tag.hasPrefix(" src=\"/static/") && tag.contains("integrity=\"sha"), "\(path)")
                    }
                }
            }
            let index = try await client.execute(uri: "/?lang=uz", method: .get).text
            #expect(index.contains(TestKey.pair().document.fingerprint))
            #expect(index.contains("autocomplete=\"off\""))
            #expect(index.contains("<input type=\"hidden\" name=\"lang\" value=\"uz\">"))
        }
    }

    // SRI: the tweetnacl hash in the page is the committed SHA-384, and it matches the installed
    // file as computed by openssl (an independent SHA-384); our own scripts' hashes match too.
    @Test func integrityAttributesMatchTheServedBytes() async throws {
        let h = try Harness()
        let installed = try run("/usr/bin/openssl", ["dgst", "-sha384", "-binary", PageResources.defaultNaclPath])
        let expected = installed.stdoutData.base64EncodedString()
        #expect(expected == PageResources.naclSHA384)
        try await h.run { client in
            let page = try await client.execute(uri: "/", method: .get).text
            #expect(page.contains("src=\"/static/nacl-fast.min.js\" integrity=\"sha384-\(expected)\""))
            for name in ["app.js", "seal.js", "blake2b.js", "style.css"] {
                let r = try await client.execute(uri: "/static/\(name)", method: .get)
                #expect(r.status == .ok)
                #expect(r.headers[.eTag] == nil && r.headers[.lastModified] == nil)
                let sri = "sha512-" + Data(SHA512.hash(Array(r.body.readableBytesView))).base64EncodedString()
                #expect(page.contains("integrity=\"\(sri)\""), "\(name)")
            }
            #expect(try await client.execute(uri: "/static/../Package.swift", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/static/nope.js", method: .get).status == .notFound)
        }
    }

    // A tweetnacl that is not the packaged file is not served, and the page has no scripts:
    // the no-JS path keeps working.
    @Test func alteredTweetnaclIsNotServed() throws {
        let dir = scratchDirectory("nacl")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: PageResources.defaultNaclPath))
        bytes.append(contentsOf: Array("\n//x".utf8))
        let path = dir.appendingPathComponent("nacl-fast.min.js").path
        try bytes.write(to: URL(fileURLWithPath: path))
        let pages = try PageResources.load(naclPath: path)
        #expect(pages.scripts.isEmpty)
        #expect(pages.assets["nacl-fast.min.js"] == nil)
        #expect(!pages.problems.isEmpty)
        #expect(try PageResources.load(naclPath: PageResources.defaultNaclPath).scripts.count == 4)
    }

    // The no-JS path: the server seals on arrival; the stored ciphertext opens to the exact
    // text with the lang from the hidden field.
    @Test func formIsSealedOnArrival() async throws {
        let h = try Harness()
        let body = "Три женщины из Кыргызстана.\r\nOʻzbek tilida ham."
        let (status, page) = try await h.run { client in
            let r = try await post(client, form([("lang", "ky"), ("body", body), ("where", "Бишкек"), ("kind", "child_at_risk"), ("contact", "")]))
            return (r.status, r.text)
        }
        #expect(status == .ok)
        #expect(page.contains("<html lang=\"ky\">"))
        let stored = try h.database.allTips()
        #expect(stored.count == 1)
        let doc = try TipOpener(keys: [TestKey.pair()]).open(keyID: stored[0].keyID, sealed: stored[0].sealed)
        #expect(doc.body == body.replacingOccurrences(of: "\r\n", with: "\n"))
        #expect(doc.fields == ["where": "Бишкек", "kind": "child_at_risk"])
        #expect(doc.lang == "ky")
        #expect(stored[0].sealed.count == 1024 + 48)
    }

    // A validation error re-renders the form in the witness's language with their text kept
    // (escaped), and stores nothing.
    @Test func validationErrorKeepsTheText() async throws {
        let h = try Harness()
        let en = try PageResources.load(naclPath: PageResources.defaultNaclPath)
        let (status, page) = try await h.run { client in
            let r = try await post(client, form([("lang", "ru"), ("body", "<b>текст</b>"), ("where", String(repeating: "x", count: 5000))]))
            return (r.status, r.text)
        }
        #expect(status == .badRequest)
        #expect(page.contains("&lt;b&gt;текст&lt;/b&gt;</textarea>"))
        #expect(page.contains(en.catalogs["ru"]!["err_field_too_long"]!))
        #expect(try h.database.counts().total == 0)
        let empty = try await h.run { client in try await post(client, form([("lang", "tg"), ("body", "")])).text }
        #expect(empty.contains(en.catalogs["tg"]!["err_empty"]!))
    }

    @Test func formNeedsItsContentType() async throws {
        let h = try Harness()
        let code = try await h.run { client in
            var hdr = HTTPFields()
            hdr[.contentType] = "text/plain"
            return try await client.execute(uri: "/submit", method: .post, headers: hdr, body: ByteBuffer(string: "body=x")).status.code
        }
        #expect(code == 415)
        #expect(try h.database.counts().total == 0)
    }
}
