import Foundation
import Testing
import TipCore
import TipCrypto
import TipStore
import TipTestSupport

@testable import TipDesk

/// Phrase redaction (SECURITY.md §11.2): whatever way the witness wrote a name, none of it
/// goes out.
@Suite struct RedactionTests {
    func redact(_ text: String, _ phrases: [String]) -> String { Redaction.redact(text, phrases: phrases).text }

    @Test func overlappingPhrasesLeaveNothing() {
        #expect(redact("Anna Petrova Street 5. Anna Petrova works there.", ["Petrova Street", "Anna Petrova"]) == "█ 5. █ works there.")
        #expect(redact("Anna Petrova Street 5.", ["Anna Petrova", "Petrova Street"]) == "█ 5.")
    }

    @Test func invisibleAndLookAlikeVariants() {
        let phrase = "Rustam Karimov"
        for written in [
            "Rustam\u{00A0}Karimov", "Rus\u{200B}tam Karimov", "Rus\u{00AD}tam  Karimov", "RUSTAM karimov", "Rustam\nKarimov",
            "Ｒｕｓｔａｍ Ｋａｒｉｍｏｖ", "Rustam Kаrimоv" /* Cyrillic а and о */, "Rustám Karimov", "Rustam\u{2060}Karimov",
        ] {
            let out = redact("The foreman \(written) took them.", [phrase])
            #expect(out == "The foreman █ took them.", "\(written.unicodeScalars.map { String($0.value, radix: 16) }) -> \(out)")
        }
        // Cyrillic typed, Latin look-alikes written (and the other way round).
        #expect(redact("хозяин Рустам Каримов", ["Pустам"]) == "хозяин █ Каримов")
    }

    @Test func wholeWordsSoNoStemIsLeft() {
        #expect(redact("у Рустама забрали паспорт", ["Рустам"]) == "у █ забрали паспорт")
        #expect(redact("Oʻtkir aka Toshkentda", ["otkir"]) == "█ aka Toshkentda")
        #expect(Redaction.redact("no such name", phrases: ["Rustam"]).counts == [0])
        #expect(Redaction.redact("a b a", phrases: ["a", "b"]).counts == [2, 1])
    }
}

/// A forward from one vault to another, opened with the partner's key: the full plaintext
/// (the signed forward and the document inside it) holds nothing that was withheld.
@Suite struct ForwardRedactionTests {
    struct Two {
        let a = DeskFixture(), b = DeskFixture()
        let aKey: PublicKeyDocument, bKey: PublicKeyDocument

        init() throws {
            aKey = try a.makeVault()
            bKey = try b.makeVault()
            let admin = KeyAdmin(vault: a.vault)
            _ = try admin.initRoot(passphrase: a.passphrase, cost: .interactive)
            _ = try admin.renew(passphrase: a.passphrase)
            _ = try admin.createForwardingKey(passphrase: a.passphrase, cost: .interactive)
        }

        /// Imports one tip into A and returns its id.
        func tip(_ doc: TipDocument) async throws -> TipID {
            let db = try a.intake()
            let s = try TipSealer.seal(doc, to: aKey)
            try await db.insert([SealedTip(id: Random.tipID(), keyID: s.keyID, day: .today, sealed: s.sealed)])
            _ = try a.desk.importBundle(at: try a.export(db), passphrase: a.passphrase)
            return try #require(try a.desk.session(a.passphrase).tips().first?.id)
        }

        /// Everything B can decrypt from the parcel: the signed forward and its document.
        func received(_ r: ForwardReport) throws -> String {
            let parcel = try ForwardParcel.decode(Data(contentsOf: r.file))
            guard case (.forward(let f), _) = try b.vault.unlock(b.passphrase).openPlaintext(keyID: parcel.keyID, sealed: parcel.sealed) else {
                throw TestFailure("not a forward")
            }
            return String(decoding: f.encoded(), as: UTF8.self) + String(decoding: f.document, as: UTF8.self)
        }
    }

    @Test func nothingWithheldReachesThePartner() async throws {
        let t = try Two()
        let id = try await t.tip(
            TipDocument(
                body: "The foreman Rustam\u{00A0}Karimov took the passports; RUSTAM KARIMOV beats them. Call Rus\u{200B}tam's brother.",
                fields: ["where": "Kanal 4, near Rustam Karimov's house", "Phone": "+998 90 123 45 67", "kind": "labour", "WQZEXTRA": "x"],
                lang: "uz"))
        let session = try t.a.desk.session(t.a.passphrase)
        _ = try session.addPartner(
            name: "B", publicKey: t.bKey.encoded(), keyring: nil, fingerprint: t.bKey.fingerprint, categories: [],
            delivery: .outbox(t.a.root.appendingPathComponent("to-b").path))
        var req = ForwardRequest(partner: "b")
        req.redactPhrases = ["rustam karimov", "Rustam"]
        req.redactFields = ["KIND"]
        req.note = "Ask about Rustam Karimov first."
        let r = try session.forward(id, req)
        let seen = try t.received(r)
        for secret in ["Rustam", "RUSTAM", "Karimov", "KARIMOV", "123 45 67", "labour", "Rus\u{200B}tam"] {
            #expect(!seen.contains(secret), "B received \(secret)")
        }
        #expect(seen.contains("The foreman █ took the passports; █ beats them. Call █ brother."), "\(seen)")
        #expect(seen.contains("Ask about █ first."))
        #expect(r.redactedFields == ["Phone", "kind"])
        // The audit log names only the page's own fields; a name the sender chose is counted.
        let entry = try #require(try session.forwards().last)
        #expect(entry.details["fields"] == .strings(["where"]))
        #expect(entry.details["other_fields"] == .int(1))
        #expect(entry.details["redacted_fields"] == .strings(["kind"]))
        #expect(entry.details["redacted_other_fields"] == .int(1))
        #expect(!"\(entry.details)".contains("WQZEXTRA"))
    }

    @Test func refusedWithoutSendingAnything() async throws {
        let t = try Two()
        let id = try await t.tip(TipDocument(body: "a body", fields: ["Rustam's phone": "1"]))
        let session = try t.a.desk.session(t.a.passphrase)
        let out = t.a.root.appendingPathComponent("to-b")
        _ = try session.addPartner(
            name: "B", publicKey: t.bKey.encoded(), keyring: nil, fingerprint: t.bKey.fingerprint, categories: [], delivery: .outbox(out.path))
        // A field whose name holds the phrase cannot be redacted, only left out.
        var req = ForwardRequest(partner: "B")
        req.redactPhrases = ["Rustam"]
        #expect(throws: DeskError.self) { try session.forward(id, req) }
        // A phrase that occurs nowhere.
        req = ForwardRequest(partner: "B")
        req.redactPhrases = ["Karimov"]
        #expect(throws: DeskError.self) { try session.forward(id, req) }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: out.path))?.isEmpty ?? true)
        #expect(try session.forwards().isEmpty)
        // A partner's tipgate needs an outbox outside the vault.
        _ = try session.addPartner(
            name: "C", publicKey: t.bKey.encoded(), keyring: nil, fingerprint: t.bKey.fingerprint, categories: [],
            delivery: try Delivery(parsing: "tipgate:https://c.example"))
        #expect(throws: DeskError.self) { try session.forward(id, ForwardRequest(partner: "C")) }
    }
}
