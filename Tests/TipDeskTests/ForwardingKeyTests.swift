import Foundation
import Testing
import TipCore
import TipCrypto
import TipStore
import TipTestSupport

@testable import TipDesk

/// The forwarding key (SECURITY.md §11.3): certified by the root in the keyring, kept through
/// renewals and rotations, and replaced only on request.
@Suite struct ForwardingKeyTests {
    @Test func certifiedKeptAndReplaced() throws {
        let f = DeskFixture()
        _ = try f.makeVault()
        let admin = KeyAdmin(vault: f.vault)
        _ = try admin.initRoot(passphrase: f.passphrase, cost: .interactive)
        // It needs a keyring to certify it in.
        #expect(throws: DeskError.self) { try admin.createForwardingKey(passphrase: f.passphrase, cost: .interactive) }
        _ = try admin.renew(passphrase: f.passphrase)
        let (doc, ring) = try admin.createForwardingKey(passphrase: f.passphrase, cost: .interactive)
        let p = try KeyringPayload.decode(ring.payload)
        #expect(p.serial == 2 && p.forwardingKey?.publicKey == doc.publicKey)
        #expect(doc.fingerprint.hasPrefix("forwarding:"))
        // Renewal and rotation keep it certified; it unlocks with the vault passphrase.
        _ = try admin.rotate(passphrase: f.passphrase, overlapDays: 1, cost: .interactive)
        let (pair, latest) = try admin.unlockForwarding(f.passphrase)
        #expect(pair.publicKey == doc.publicKey)
        #expect(try KeyringPayload.decode(latest.payload).forwardingKey?.publicKey == doc.publicKey)
        // A second key is refused unless asked for; a wrong passphrase deletes nothing.
        #expect(throws: DeskError.self) { try admin.createForwardingKey(passphrase: f.passphrase, cost: .interactive) }
        #expect(throws: DeskError.self) {
            try admin.createForwardingKey(passphrase: SecureBytes(copying: Data("not the passphrase".utf8)), cost: .interactive, replace: true)
        }
        #expect(try admin.forwardingDocument() == doc)
        let (replaced, ring2) = try admin.createForwardingKey(passphrase: f.passphrase, cost: .interactive, replace: true)
        #expect(replaced.publicKey != doc.publicKey)
        #expect(try KeyringPayload.decode(ring2.payload).forwardingKey?.publicKey == replaced.publicKey)
        #expect(try admin.unlockForwarding(f.passphrase).0.publicKey == replaced.publicKey)
    }
}

/// What a recipient remembers of each known organization's keyrings (SECURITY.md §11.5 steps
/// 6-7): only ever a higher serial, or a conflict in the newest one, matched by root and not
/// by name, read back by a new session; learned from a forward opened by `reopen` too; and a
/// damaged record is refused.
@Suite struct NewestKeyringTests {
    @Test func onlyAHigherSerialOfTheSameRootIsRemembered() throws {
        let f = DeskFixture()
        _ = try f.makeVault()
        let a = SigningKeyPair.generate()
        let b = SigningKeyPair.generate()
        let s = try f.desk.session(f.passphrase)
        for (name, root) in [("A", a), ("B", b)] {
            let doc = RootIdentity.document(for: root.publicKey)
            try s.addOrganization(name: name, rootDocument: doc.encoded(), keyring: nil, fingerprint: doc.fingerprint)
        }
        let k5 = SigningKeyPair.generate().publicKey
        let k3 = SigningKeyPair.generate().publicKey
        let before = try s.auditEntries().count
        func remember(_ serial: Int, _ key: [UInt8]?, root: SigningKeyPair) throws {
            var seen = NewestKeyrings()
            seen.add(.init(serial: serial, forwardingKey: key), root: root.publicKey)
            try s.db.write { w in try s.rememberNewestKeyrings(seen, in: w) }
        }
        func newest(_ name: String) throws -> ForwardVerifier.NewestKeyring? {
            try f.desk.session(f.passphrase).organizations().first { $0.name == name }?.newest
        }
        try remember(5, k5, root: a)
        #expect(try newest("A") == .init(serial: 5, forwardingKey: k5))
        #expect(try newest("B") == nil)
        try remember(3, k3, root: a)  // older: no rollback
        try remember(5, k5, root: a)  // the same again: nothing new
        #expect(try newest("A") == .init(serial: 5, forwardingKey: k5))
        #expect(try s.auditEntries().count == before + 1)
        try remember(5, k3, root: a)  // the same serial, another key: a conflict (step 7)
        #expect(try newest("A") == .init(serial: 5, forwardingKey: k5, conflicting: true))
        #expect(try s.auditEntries().last?.details["change"] == .string("conflicting keyrings"))
        try remember(5, k5, root: a)  // a conflict stays
        #expect(try newest("A") == .init(serial: 5, forwardingKey: k5, conflicting: true))
        try remember(6, nil, root: a)  // a keyring that certifies no forwarding key
        #expect(try newest("A") == .init(serial: 6, forwardingKey: nil))
        #expect(try s.auditEntries().count == before + 3)
        var highest = NewestKeyrings()
        highest.add(.init(serial: 2, forwardingKey: k3), root: b.publicKey)
        highest.add(.init(serial: 9, forwardingKey: k5), root: b.publicKey)
        highest.add(.init(serial: 4, forwardingKey: k3), root: b.publicKey)
        #expect(highest.byRoot[b.publicKey] == .init(serial: 9, forwardingKey: k5))
    }

    /// Organization A, known to `f`'s vault by its root; `forward` seals a forward from A to
    /// `to`, carrying A's keyring `serial` that certifies `certified`, signed with `signer`.
    struct OrgA {
        let root: SigningKeyPair
        var rootDoc: RootKeyDocument { RootIdentity.document(for: root.publicKey) }

        /// An organization the vault does not know (yet).
        init(root: SigningKeyPair) { self.root = root }

        init(knownTo f: DeskFixture) throws {
            root = SigningKeyPair.generate()
            let doc = RootIdentity.document(for: root.publicKey)
            try f.session().addOrganization(name: "A", rootDocument: doc.encoded(), keyring: nil, fingerprint: doc.fingerprint)
        }

        func forward(serial: Int, certified: SigningKeyPair, signer: SigningKeyPair, to: PublicKeyDocument) throws -> SealedTip {
            let payload = KeyringPayload(
                serial: serial, issued: .today, expires: Day.today.adding(days: 90), rootKeyID: rootDoc.keyID,
                intakeKeys: [IntakeKeyEntry(keyID: to.keyID, publicKey: to.publicKey, notBefore: .today)], scripts: [:],
                forwardingKey: .init(keyID: KeyIdentity.keyID(for: certified.publicKey), publicKey: certified.publicKey))
            let doc = try ForwardDocument(org: rootDoc.keyID, day: .today, body: "a forward", fields: [:], lang: "en", note: nil, category: nil, urgency: nil)
            let s = try ForwardSealer.seal(doc, keyring: KeyringSigner.sign(payload, with: root).encoded(), forwardingKey: signer, to: to).submission
            return SealedTip(id: Random.tipID(), keyID: s.keyID, day: .today, sealed: s.sealed)
        }
    }

    /// A forward sealed to a key the vault did not hold yet is kept sealed at import; when
    /// `reopen` opens it, the keyring it carries is remembered as an import's would be.
    @Test func reopenRemembersTheKeyringAForwardCarries() throws {
        let f = DeskFixture()
        _ = try f.makeVault()
        let a = try OrgA(knownTo: f)
        let forwarding = SigningKeyPair.generate()
        let later = IntakeKeyPair.generate()
        let tip = try a.forward(serial: 7, certified: forwarding, signer: forwarding, to: later.document)
        #expect(try f.desk.importBundle(at: try f.write([tip]), passphrase: f.passphrase).unopened == [tip.id])
        #expect(try f.session().organizations()[0].newest == nil)
        // The key arrives (as `keys receive` installs it), and reopen opens the forward.
        try f.vault.write(
            try SecretKeyFile.seal(secret: later.secretKey, keyID: later.keyID.hex, kind: "x25519", passphrase: f.passphrase, cost: .interactive),
            to: f.vault.keysDirectory.appendingPathComponent("\(later.keyID).secret"))
        try f.vault.writePublic(later.document.encoded(), to: f.vault.keysDirectory.appendingPathComponent("\(later.keyID).public.json"))
        #expect(try f.desk.reopen(passphrase: f.passphrase).opened == 1)
        #expect(try f.session().organizations()[0].newest == .init(serial: 7, forwardingKey: forwarding.publicKey))
    }

    @Test func aDamagedRecordIsRefused() throws {
        let f = DeskFixture()
        _ = try f.makeVault()
        let s = try f.desk.session(f.passphrase)
        let root = Data(SigningKeyPair.generate().publicKey).base64EncodedString()
        let entry = RegistryFile.OrgWire(name: "A", root_public_key: root, added: "2026-11-01")
        let key = Data(count: 32).base64EncodedString()
        let damaged: [[KeyringWire]] = [
            [KeyringWire(root_public_key: root, serial: 0, forwarding_key: key)],
            [KeyringWire(root_public_key: root, serial: 3, forwarding_key: "not base64")],
            [KeyringWire(root_public_key: root, serial: 3, forwarding_key: Data(count: 31).base64EncodedString())],
            [KeyringWire(root_public_key: Data(count: 31).base64EncodedString(), serial: 3, forwarding_key: nil)],
            [KeyringWire(root_public_key: root, serial: 3, forwarding_key: nil), KeyringWire(root_public_key: root, serial: 4, forwarding_key: key)],
            [KeyringWire(root_public_key: root, serial: 3, forwarding_key: key, conflicting: false)],
        ]
        for k in damaged {
            try s.db.write { w in try s.writeRegistry("orgs", RegistryFile(v: 1, orgs: [entry], keyrings: k), in: w) }
            #expect(throws: DeskError("the vault's organization registry is damaged"), "\(k.map(\.serial))") { try s.organizations() }
            // An import that learns a keyring refuses it too, rather than writing over it.
            var seen = NewestKeyrings()
            seen.add(.init(serial: 9, forwardingKey: nil), root: Array(Data(base64Encoded: root)!))
            #expect(throws: DeskError.self) { try s.db.write { w in try s.rememberNewestKeyrings(seen, in: w) } }
        }
        try s.db.write { w in
            try s.writeRegistry("orgs", RegistryFile(v: 1, orgs: [entry], keyrings: [.init(root_public_key: root, serial: 3, forwarding_key: nil)]), in: w)
        }
        #expect(try s.organizations()[0].newest == .init(serial: 3, forwardingKey: nil))
        try s.db.write { w in
            let ring = KeyringWire(root_public_key: root, serial: 3, forwarding_key: key, conflicting: true)
            try s.writeRegistry("orgs", RegistryFile(v: 1, orgs: [entry], keyrings: [ring]), in: w)
        }
        #expect(try s.organizations()[0].newest == .init(serial: 3, forwardingKey: Array(Data(count: 32)), conflicting: true))
    }

    /// §11.5 step 7: two forwards carrying keyrings of one serial that certify different keys
    /// (a root key in other hands signing one for a thief's forwarding key) are found at
    /// import, whichever comes first: the import reports the organization, the audit log says
    /// so, and neither forward verifies, then or later, until a newer keyring replaces both.
    @Test func twoKeyringsOfOneSerialAreFoundAtImport() throws {
        for order in [false, true] {
            let f = DeskFixture()
            let intake = try f.makeVault()
            let a = try OrgA(knownTo: f)
            let real = SigningKeyPair.generate()
            let thief = SigningKeyPair.generate()
            let good = try a.forward(serial: 4, certified: real, signer: real, to: intake)
            let forged = try a.forward(serial: 4, certified: thief, signer: thief, to: intake)
            let first = order ? forged : good
            let second = order ? good : forged
            let r1 = try f.desk.importBundle(at: try f.write([first]), passphrase: f.passphrase)
            #expect(r1.keyringConflicts.isEmpty)
            #expect(try f.session().receivedForward(first.id)?.verification.status == .verified)
            let r2 = try f.desk.importBundle(at: try f.write([second]), passphrase: f.passphrase)
            #expect(r2.keyringConflicts == ["A"])
            let s = try f.session()
            #expect(try s.organizations()[0].newest?.conflicting == true)
            #expect(try s.auditEntries().contains { $0.details["change"] == .string("conflicting keyrings") && $0.details["serial"] == .int(4) })
            for tip in [good, forged] {
                #expect(try s.receivedForward(tip.id)?.verification.status == .conflictingKeyring, "order \(order)")
            }
            // Both in one bundle: the same.
            let g = DeskFixture()
            let intake2 = try g.makeVault()
            let b = try OrgA(knownTo: g)
            let both = [
                try b.forward(serial: 2, certified: real, signer: real, to: intake2), try b.forward(serial: 2, certified: thief, signer: thief, to: intake2),
            ]
            #expect(try g.desk.importBundle(at: try g.write(order ? both.reversed() : both), passphrase: g.passphrase).keyringConflicts == ["A"])
            // The organization answers with a newer keyring for its real key: that verifies
            // again, the thief's key is replaced.
            let newer = try a.forward(serial: 5, certified: real, signer: real, to: intake)
            #expect(try f.desk.importBundle(at: try f.write([newer]), passphrase: f.passphrase).keyringConflicts.isEmpty)
            #expect(try f.session().receivedForward(newer.id)?.verification.status == .verified)
            #expect(try f.session().receivedForward(forged.id)?.verification.status == .replacedKey)
        }
    }

    /// §11.5 step 7 through the other ways a vault learns keyrings: forwards from an organization
    /// not known yet, found in conflict when `orgs add` reads the forwards held (audited as an
    /// import would); a removal and return that keep the mark; and `reopen`, which reports a
    /// conflict among the forwards it opens as import does.
    @Test func aConflictIsFoundWhenAddingAnOrganizationAndOnReopen() throws {
        let f = DeskFixture()
        let intake = try f.makeVault()
        let root = SigningKeyPair.generate()
        let doc = RootIdentity.document(for: root.publicKey)
        let a = OrgA(root: root)
        let tips = [
            try a.forward(serial: 3, certified: SigningKeyPair.generate(), signer: SigningKeyPair.generate(), to: intake),
            try a.forward(serial: 3, certified: SigningKeyPair.generate(), signer: SigningKeyPair.generate(), to: intake),
        ]
        #expect(try f.desk.importBundle(at: try f.write(tips), passphrase: f.passphrase).keyringConflicts.isEmpty)  // A is unknown
        let s = try f.session()
        try s.addOrganization(name: "A", rootDocument: doc.encoded(), keyring: nil, fingerprint: doc.fingerprint)
        #expect(try s.organizations()[0].newest?.conflicting == true)
        #expect(try s.auditEntries().last?.details["change"] == .string("conflicting keyrings"))
        try s.removeOrganization("A")
        try s.addOrganization(name: "A", rootDocument: doc.encoded(), keyring: nil, fingerprint: doc.fingerprint)
        #expect(try s.organizations()[0].newest?.conflicting == true)

        // Reopen: two forwards sealed to a key the vault gets only later.
        let g = DeskFixture()
        _ = try g.makeVault()
        let b = try OrgA(knownTo: g)
        let later = IntakeKeyPair.generate()
        let sealed = [
            try b.forward(serial: 5, certified: SigningKeyPair.generate(), signer: SigningKeyPair.generate(), to: later.document),
            try b.forward(serial: 5, certified: SigningKeyPair.generate(), signer: SigningKeyPair.generate(), to: later.document),
        ]
        #expect(try g.desk.importBundle(at: try g.write(sealed), passphrase: g.passphrase).unopened.count == 2)
        try g.vault.write(
            try SecretKeyFile.seal(secret: later.secretKey, keyID: later.keyID.hex, kind: "x25519", passphrase: g.passphrase, cost: .interactive),
            to: g.vault.keysDirectory.appendingPathComponent("\(later.keyID).secret"))
        try g.vault.writePublic(later.document.encoded(), to: g.vault.keysDirectory.appendingPathComponent("\(later.keyID).public.json"))
        #expect(try g.desk.reopen(passphrase: g.passphrase).keyringConflicts == ["A"])
    }

    /// `orgs add --keyring` for a known organization (§11.5 steps 6-7): a keyring of the newest
    /// serial certifying another key is a conflict, recorded and reported; the same again, or
    /// an older one, adds nothing.
    @Test func addingAKeyringOfTheNewestSerialWithAnotherKeyIsAConflict() throws {
        let f = DeskFixture()
        let intake = try f.makeVault()
        let root = SigningKeyPair.generate()
        let doc = RootIdentity.document(for: root.publicKey)
        func keyring(_ serial: Int, _ key: SigningKeyPair) throws -> Data {
            let payload = KeyringPayload(
                serial: serial, issued: .today, expires: Day.today.adding(days: 90), rootKeyID: doc.keyID,
                intakeKeys: [IntakeKeyEntry(keyID: intake.keyID, publicKey: intake.publicKey, notBefore: .today)], scripts: [:],
                forwardingKey: .init(keyID: KeyIdentity.keyID(for: key.publicKey), publicKey: key.publicKey))
            return try KeyringSigner.sign(payload, with: root).encoded()
        }
        let real = SigningKeyPair.generate()
        let s = try f.session()
        func add(_ ring: Data) throws -> OrganizationChange {
            try s.addOrganization(name: "A", rootDocument: nil, keyring: ring, fingerprint: doc.fingerprint).1
        }
        #expect(try add(try keyring(4, real)) == .added)
        #expect(throws: DeskError.self) { try add(try keyring(4, real)) }
        #expect(throws: DeskError.self) { try add(try keyring(3, SigningKeyPair.generate())) }
        #expect(try add(try keyring(4, SigningKeyPair.generate())) == .conflictingKeyring)
        #expect(try s.organizations()[0].newest == .init(serial: 4, forwardingKey: real.publicKey, conflicting: true))
        #expect(throws: DeskError.self) { try add(try keyring(4, SigningKeyPair.generate())) }
        #expect(try add(try keyring(5, real)) == .newerKeyring)
        #expect(try s.organizations()[0].newest == .init(serial: 5, forwardingKey: real.publicKey))
    }

    /// A forward that does not verify (here, signed by a key its keyring does not certify)
    /// still carries a keyring its root signed: that keyring is remembered (§11.5 step 6).
    @Test func aKeyringIsLearnedFromAForwardThatDoesNotVerify() throws {
        let f = DeskFixture()
        let intake = try f.makeVault()
        let certified = SigningKeyPair.generate()
        let tip = try OrgA(knownTo: f).forward(serial: 8, certified: certified, signer: SigningKeyPair.generate(), to: intake)
        #expect(try f.desk.importBundle(at: try f.write([tip]), passphrase: f.passphrase).opened == 1)
        #expect(try f.session().receivedForward(tip.id)?.verification.status == .notCertified)
        #expect(try f.session().organizations()[0].newest == .init(serial: 8, forwardingKey: certified.publicKey))
    }
}
