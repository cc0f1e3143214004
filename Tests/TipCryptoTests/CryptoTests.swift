import Foundation
import Testing
import TipCore
import TipTestSupport

@testable import TipCrypto

@Suite struct HashAndKeyIDTests {
    // RFC 7693 Appendix A: BLAKE2b-512("abc").
    @Test func blake2bRFC7693() {
        let out = BLAKE2b.hash(Array("abc".utf8), length: 64)
        #expect(
            Hex.encode(out)
                == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        )
    }

    // The key id and fingerprint of the test key were computed by Python's hashlib, an
    // independent BLAKE2b (SECURITY.md §2.1).
    @Test func keyIdentityMatchesIndependentImplementation() throws {
        let doc = try KeyIdentity.verifiedDocument(Data(contentsOf: URL(fileURLWithPath: TestKey.documentPath)))
        #expect(KeyIdentity.document(for: TestKey.pair().publicKey) == doc)
        #expect(doc.keyID.hex == "ba5d987fcd4768d2")
        #expect(doc.fingerprint.split(separator: " ").count == 16)
    }

    // SECURITY.md §2.2: a reader MUST reject a document whose id or fingerprint is not derived
    // from its key.
    @Test func keyDocumentDerivationIsChecked() throws {
        let good = String(decoding: try Data(contentsOf: URL(fileURLWithPath: TestKey.documentPath)), as: UTF8.self)
        let badID = good.replacingOccurrences(of: "\"key_id\":\"ba5d987fcd4768d2\"", with: "\"key_id\":\"ba5d987fcd4768d3\"")
        #expect(badID != good)
        #expect(throws: FormatError.self) { try KeyIdentity.verifiedDocument(Data(badID.utf8)) }
        let badFP = good.replacingOccurrences(of: "\"fingerprint\":\"ba5d", with: "\"fingerprint\":\"ba5e")
        #expect(badFP != good)
        #expect(throws: FormatError.self) { try KeyIdentity.verifiedDocument(Data(badFP.utf8)) }
    }
}

@Suite struct SealAndOpenTests {
    let key = TestKey.pair()

    @Test func roundTrip() throws {
        let tip = try TipDocument(body: "Три женщины из Кыргызстана", fields: ["where": "Ленина"], lang: "ru")
        let s = try TipSealer.seal(tip, to: key.document)
        #expect(s.sealed.count == 1024 + 48)
        #expect(try TipOpener(keys: [key]).open(keyID: s.keyID, sealed: s.sealed) == tip)
    }

    @Test func sizeClassHidesLength() throws {
        let a = try TipSealer.seal(TipDocument(body: "a"), to: key.document)
        let b = try TipSealer.seal(TipDocument(body: String(repeating: "b", count: 900)), to: key.document)
        #expect(a.sealed.count == b.sealed.count)
    }

    @Test func tamperedCiphertextFails() throws {
        var s = try TipSealer.seal(TipDocument(body: "x"), to: key.document).sealed
        s[500] ^= 1
        #expect(throws: CryptoError.decryptionFailed) { try TipOpener(keys: [key]).open(keyID: key.keyID, sealed: s) }
    }

    @Test func wrongKeyFails() throws {
        let other = IntakeKeyPair.generate()
        let s = try TipSealer.seal(TipDocument(body: "x"), to: other.document)
        #expect(throws: CryptoError.self) { try TipOpener(keys: [key]).open(keyID: other.keyID, sealed: s.sealed) }
        // Even if the key id is forged to ours, the box does not open.
        #expect(throws: CryptoError.decryptionFailed) { try TipOpener(keys: [key]).open(keyID: key.keyID, sealed: s.sealed) }
    }

    @Test func tooLargeToSealIsRefused() throws {
        let fields = Dictionary(uniqueKeysWithValues: (0..<32).map { ("k\($0)", String(repeating: "\u{1}", count: 4096)) })
        let doc = try TipDocument(body: String(repeating: "\u{1}", count: 262_144), fields: fields)
        // Control characters escape to \u0001 (6 bytes each), so the document outgrows 1 MiB.
        #expect(throws: FormatError.self) { try TipSealer.seal(doc, to: key.document) }
    }

    // Plaintext vectors (Tests/Vectors/plaintext): sealed here with libsodium, then run through
    // the opener tipdesk uses. Each expects success or exactly one error code.
    @Test(arguments: Vector.load("plaintext"))
    func plaintextVector(_ v: Vector) throws {
        let padded = Data(base64Encoded: String(decoding: v.payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))!
        let sealed = padded.withUnsafeBytes { SealedBox.seal($0, to: key.publicKey) }
        do {
            let doc = try TipOpener(keys: [key]).open(keyID: key.keyID, sealed: sealed)
            #expect(v.expect == "success", "\(v.name) opened but expects \(v.expect)")
            if let body = v.headers["body"] {
                let expected = try JSONDecoder().decode(String.self, from: Data(body.utf8))
                #expect(doc.body == expected)
            }
        } catch let e as CryptoError {
            #expect(e.code == v.expect, "\(v.name)")
        } catch let e as FormatError {
            #expect(e.code == v.expect, "\(v.name)")
        }
    }

    @Test func plaintextVectorsExist() {
        #expect(Vector.load("plaintext").count >= 20)
    }
}

@Suite struct SecretKeyFileTests {
    let pass = SecureBytes(copying: Array("correct horse battery".utf8))

    func sealed() throws -> (Data, IntakeKeyPair) {
        let pair = IntakeKeyPair.generate()
        let file = try SecretKeyFile.seal(secret: pair.secretKey, keyID: pair.keyID.hex, kind: "x25519", passphrase: pass, cost: .interactive)
        return (file, pair)
    }

    @Test func roundTrip() throws {
        let (file, pair) = try sealed()
        let (header, secret) = try SecretKeyFile.open(file, passphrase: pass)
        #expect(header.keyID == pair.keyID.hex)
        #expect(secret.constantTimeEquals(pair.secretKey))
        #expect(String(decoding: file, as: UTF8.self).hasPrefix("tipdesk-secret-key v1\n"))
    }

    @Test func wrongPassphrase() throws {
        let (file, _) = try sealed()
        #expect(throws: CryptoError.wrongPassphrase) {
            try SecretKeyFile.open(file, passphrase: SecureBytes(copying: Array("wrong horse battery".utf8)))
        }
    }

    // SECURITY.md §2.3: the header is authenticated. Each edit fails like a wrong passphrase.
    @Test(arguments: [
        ("\"opslimit\":2", "\"opslimit\":3"),
        ("\"kind\":\"x25519\"", "\"kind\":\"x25519b\""),
        ("\"key_id\":\"", "\"key_id\":\"0"),
    ])
    func headerEditFailsLikeWrongPassphrase(from: String, to: String) throws {
        let (file, _) = try sealed()
        let text = String(decoding: file, as: UTF8.self)
        #expect(text.contains(from))
        let edited = Data(text.replacingOccurrences(of: from, with: to).utf8)
        #expect(throws: CryptoError.wrongPassphrase) { try SecretKeyFile.open(edited, passphrase: pass) }
    }

    @Test func saltEditFails() throws {
        let (file, _) = try sealed()
        var lines = String(decoding: file, as: UTF8.self).components(separatedBy: "\n")
        let other = Data(Random.bytes(16)).base64EncodedString()
        lines[1] = lines[1].replacingOccurrences(
            of: #""salt":"[^"]+""#, with: "\"salt\":\"\(other)\"", options: .regularExpression)
        #expect(throws: CryptoError.wrongPassphrase) { try SecretKeyFile.open(Data(lines.joined(separator: "\n").utf8), passphrase: pass) }
    }

    @Test func absurdParametersAreRefusedBeforeWork() throws {
        let (file, _) = try sealed()
        let text = String(decoding: file, as: UTF8.self)
        let edited = text.replacingOccurrences(
            of: #""memlimit":[0-9]+"#, with: "\"memlimit\":109951162777600", options: .regularExpression)
        #expect(throws: CryptoError.self) { try SecretKeyFile.open(Data(edited.utf8), passphrase: pass) }
    }

    @Test func truncatedFile() throws {
        let (file, _) = try sealed()
        #expect(throws: CryptoError.self) { try SecretKeyFile.open(file.prefix(file.count - 10), passphrase: pass) }
        #expect(throws: CryptoError.self) { try SecretKeyFile.open(file.prefix(30), passphrase: pass) }
    }
}
