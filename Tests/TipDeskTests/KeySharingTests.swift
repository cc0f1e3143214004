import Foundation
import Testing
import TipCore
import TipCrypto
import TipStore
import TipTestSupport

@testable import TipDesk

@Suite struct KeySharingTests {
    /// A second vault, with its own passphrase, ready to receive.
    func recipient() throws -> (DeskFixture, VaultKeyDocument, SecureBytes) {
        let g = DeskFixture()
        let pw = SecureBytes(copying: Array("the other reviewer 3".utf8))
        _ = try g.vault.create(passphrase: pw, cost: .interactive)
        return (g, try g.vault.createVaultKey(passphrase: pw, cost: .interactive), pw)
    }

    @Test func theReceivingVaultOpensEveryTip() async throws {
        let f = DeskFixture()
        let bodies = ["a", "б", "c", "to the rotated key"]
        let keys = try await f.populated(bodies).sorted { $0.keyID < $1.keyID }
        let (g, doc, pw) = try recipient()
        let share = f.root.appendingPathComponent("share.json")
        #expect(try KeySharing(vault: f.vault).share(to: doc, passphrase: f.passphrase, out: share) == keys.map(\.keyID))
        #expect(try FileManager.default.attributesOfItem(atPath: share.path)[.posixPermissions] as? Int == 0o600)
        // O_EXCL: a share never replaces a file.
        #expect(throws: DeskError.self) { try KeySharing(vault: f.vault).share(to: doc, passphrase: f.passphrase, out: share) }

        let r = try KeySharing(vault: g.vault).receive(try Data(contentsOf: share), name: "share.json", passphrase: pw, cost: .interactive)
        #expect(r.added == keys.map(\.keyID) && r.alreadyHad.isEmpty)
        if case .notPinned(let fp) = r.keyring {
            #expect(fp == (try KeyAdmin(vault: f.vault).rootDocument())?.fingerprint)
        } else {
            Issue.record("a keyring without a pinned root must not be imported: \(r.keyring)")
        }
        // The imported keys are under the receiving vault's passphrase, at the cost asked for.
        for k in keys {
            let file = try Data(contentsOf: g.vault.keysDirectory.appendingPathComponent("\(k.keyID).secret"))
            #expect(try SecretKeyFile.header(file).opslimit == SecretKeyFile.Cost.interactive.opslimit)
            #expect(throws: CryptoError.wrongPassphrase) { try SecretKeyFile.open(file, passphrase: f.passphrase) }
        }
        // The root is never shared.
        #expect(!FileManager.default.fileExists(atPath: g.vault.keysDirectory.appendingPathComponent("root.secret").path))

        // The second vault imports the same bundle and opens every tip with its own passphrase.
        let db = try f.intake()
        #expect(try g.desk.importBundle(at: try f.export(db, all: true), passphrase: pw).added == bodies.count)
        #expect(try g.openAll(pw) == bodies.sorted())

        // Receiving again adds nothing.
        let again = try KeySharing(vault: g.vault).receive(try Data(contentsOf: share), name: "share.json", passphrase: pw, cost: .interactive)
        #expect(again.added.isEmpty && again.alreadyHad == keys.map(\.keyID))
    }

    @Test func theKeyringIsImportedOnlyAgainstAPinnedRoot() async throws {
        let f = DeskFixture()
        let keys = try await f.populated()
        let (g, doc, pw) = try recipient()
        let share = f.root.appendingPathComponent("share.json")
        try KeySharing(vault: f.vault).share(to: doc, passphrase: f.passphrase, out: share)
        let data = try Data(contentsOf: share)
        let root = try #require(try KeyAdmin(vault: f.vault).rootDocument())

        let foreign = "root:" + String(repeating: "ab12 ", count: 16).dropLast()
        let refused = try KeySharing(vault: g.vault).receive(data, name: "s", passphrase: pw, cost: .interactive, rootFingerprint: foreign)
        guard case .refused = refused.keyring else {
            Issue.record("a keyring of another root was taken: \(refused.keyring)")
            return
        }
        #expect(try KeyAdmin(vault: g.vault).rootDocument() == nil)

        let r = try KeySharing(vault: g.vault).receive(data, name: "s", passphrase: pw, cost: .interactive, rootFingerprint: root.fingerprint)
        #expect(r.keyring == .imported(serial: 2))
        #expect(
            try Data(contentsOf: g.vault.directory.appendingPathComponent("keyring.json"))
                == Data(contentsOf: f.vault.directory.appendingPathComponent("keyring.json")))
        #expect(try KeyAdmin(vault: g.vault).rootDocument() == root)
        #expect(try g.vault.database().listedKeys() == Set(keys.map(\.keyID)))
        #expect(try KeyAdmin(vault: g.vault).latest()?.1.serial == 2)
        let again = try KeySharing(vault: g.vault).receive(data, name: "s", passphrase: pw, cost: .interactive)
        #expect(again.keyring == .notNewer(serial: 2))
    }

    @Test func aShareForAnotherVaultIsRefused() async throws {
        let f = DeskFixture()
        _ = try await f.populated()
        let (g, _, pw) = try recipient()
        let (_, otherDoc, _) = try recipient()
        let share = f.root.appendingPathComponent("for-another.json")
        try KeySharing(vault: f.vault).share(to: otherDoc, passphrase: f.passphrase, out: share)
        let data = try Data(contentsOf: share)
        let before = try g.keyFiles()
        do {
            _ = try KeySharing(vault: g.vault).receive(data, name: "for-another.json", passphrase: pw, cost: .interactive)
            Issue.record("a share addressed to another vault was accepted")
        } catch let e as DeskError {
            #expect(e.message.contains("addressed to vault key \(otherDoc.keyID)"), "\(e.message)")
        }
        // Relabelled to this vault, it still does not open: it is sealed to the other key.
        let ownID = try #require(try g.vault.vaultKeyDocument()).keyID
        let envelope = try KeyShareEnvelope.decode(data)
        let relabelled = KeyShareEnvelope(to: ownID, sealed: envelope.sealed).encoded()
        #expect(throws: DeskError.self) { try KeySharing(vault: g.vault).receive(relabelled, name: "x", passphrase: pw, cost: .interactive) }
        #expect(try g.keyFiles() == before)
    }

    @Test func damagedSharesAndWrongPassphrasesAreRefused() async throws {
        let f = DeskFixture()
        _ = try await f.populated()
        let (g, doc, pw) = try recipient()
        let share = f.root.appendingPathComponent("share.json")
        try KeySharing(vault: f.vault).share(to: doc, passphrase: f.passphrase, out: share)
        let good = try Data(contentsOf: share)
        var flipped = try KeyShareEnvelope.decode(good).sealed
        flipped[flipped.count / 2] ^= 0x01
        let before = try g.keyFiles()
        let bad: [(String, Data)] = [
            ("one bit flipped", KeyShareEnvelope(to: doc.keyID, sealed: flipped).encoded()),
            ("truncated", good.prefix(good.count / 2)),
            ("empty", Data()),
            ("a public key document", doc.encoded()),
        ]
        for (what, data) in bad {
            #expect(throws: DeskError.self, "\(what)") { try KeySharing(vault: g.vault).receive(data, name: "x", passphrase: pw, cost: .interactive) }
        }
        #expect(throws: DeskError("wrong passphrase")) {
            try KeySharing(vault: g.vault).receive(good, name: "x", passphrase: f.passphrase, cost: .interactive)
        }
        #expect(try g.keyFiles() == before)
        // Sharing to a document whose fingerprint was edited is refused before anything is sealed.
        let forged = String(decoding: doc.encoded(), as: UTF8.self).replacingOccurrences(of: "vault:", with: "vault:0")
        let path = f.root.appendingPathComponent("forged.json")
        try Data(forged.utf8).write(to: path)
        #expect(throws: DeskError.self) { try KeySharing.recipient(at: path.path) }
        #expect(throws: DeskError.self) {
            try KeySharing(vault: g.vault).share(to: doc, passphrase: pw, out: f.root.appendingPathComponent("self.json"))
        }
    }

    // The document inside the box is closed (§1) and read without escapes; each defect is refused.
    @Test func shareDocumentsAreStrict() throws {
        let vaultKey = IntakeKeyPair.generate()
        let k = IntakeKeyPair.generate()
        let sk = k.secretKey.withUnsafeBytes { Data($0).base64EncodedString() }
        let entry = #"{"key_id":"\#(k.keyID)","public_key":"\#(Data(k.publicKey).base64EncodedString())","secret_key":"\#(sk)"}"#
        func sealed(_ doc: String) -> [UInt8] {
            let padded = Array(doc.utf8).withUnsafeBytes { Padding.pad($0) }
            return padded.withUnsafeBytes { SealedBox.seal($0, to: vaultKey.publicKey) }
        }
        let good = #"{"keys":[\#(entry)],"kind":"tipdesk-key-share","v":1}"#
        #expect(try KeyShare.open(sealed(good), with: vaultKey).keys.map(\.keyID) == [k.keyID])
        let spaced = #"{ "v" : 1 , "kind":"tipdesk-key-share", "keys" : [ \#(entry) ] }"#
        #expect(try KeyShare.open(sealed(spaced), with: vaultKey).keyring == nil)
        let other = IntakeKeyPair.generate()
        let bad = [
            good.replacingOccurrences(of: #""v":1"#, with: #""v":2"#),
            good.replacingOccurrences(of: #""v":1"#, with: #""v":1,"extra":"x""#),
            good.replacingOccurrences(of: #""v":1"#, with: #""v":1,"v":1"#),
            good.replacingOccurrences(of: "tipdesk-key-share", with: "tipdesk-key-sharf"),
            good.replacingOccurrences(of: entry, with: entry + "," + entry),
            good.replacingOccurrences(of: sk, with: other.secretKey.withUnsafeBytes { Data($0).base64EncodedString() }),
            good.replacingOccurrences(of: sk, with: String(sk.dropLast()) + "\\u003d"),
            good.replacingOccurrences(of: #""keys":[\#(entry)]"#, with: #""keys":[]"#),
            good + " x",
            String(good.dropLast()),
        ]
        for doc in bad {
            #expect(throws: CryptoError.self, "\(doc)") { try KeyShare.open(sealed(doc), with: vaultKey) }
        }
        #expect(throws: CryptoError.decryptionFailed) { try KeyShare.open(sealed(good), with: IntakeKeyPair.generate()) }
    }
}
