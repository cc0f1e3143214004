import Foundation
import Testing
import TipCore
import TipTestSupport

@testable import TipCrypto

/// Forwards (SECURITY.md §11.3, §11.5): one case per verification outcome, each built with real
/// keys, sealed and opened with real libsodium.
@Suite struct ForwardVerificationTests {
    /// An organization: a root, a forwarding key and the keyring in which the root certifies it.
    struct Org {
        let root = SigningKeyPair.generate()
        let forwarding = SigningKeyPair.generate()
        let intake = IntakeKeyPair.generate()
        var keyring: Data

        init(certify: Bool = true) {
            keyring = Data()
            let payload = KeyringPayload(
                serial: 2, issued: Day("2026-11-01")!, expires: Day("2027-01-30")!, rootKeyID: KeyIdentity.keyID(for: root.publicKey),
                intakeKeys: [IntakeKeyEntry(keyID: intake.keyID, publicKey: intake.publicKey, notBefore: Day("2026-11-01")!)], scripts: [:],
                forwardingKey: certify ? .init(keyID: KeyIdentity.keyID(for: forwarding.publicKey), publicKey: forwarding.publicKey) : nil)
            keyring = KeyringSigner.sign(payload, with: root).encoded()
        }

        var rootID: KeyID { KeyIdentity.keyID(for: root.publicKey) }
        var known: ForwardVerifier.KnownOrg { .init(name: "Org \(rootID)", rootPublicKey: root.publicKey) }
        var opener: TipOpener { TipOpener(keys: [intake]) }
        var intakeDocument: PublicKeyDocument { intake.document }

        func document(body: String = "Workers at the brick factory are locked in. █ took the passports.") throws -> ForwardDocument {
            try ForwardDocument(
                org: rootID, day: Day("2026-11-02")!, body: body, fields: ["kind": "labour"], lang: "en", note: "please act",
                category: "forced_labour", urgency: "high")
        }

        /// Seals a forward from this org to `to`, signed with `signer` (default: the certified key).
        func forward(to: Org, signer: SigningKeyPair? = nil, document doc: ForwardDocument? = nil) throws -> Submission {
            try ForwardSealer.seal(doc ?? document(), keyring: keyring, forwardingKey: signer ?? forwarding, to: to.intakeDocument).submission
        }

        /// Opens a submission with this org's key; it must hold a forward.
        func open(_ s: Submission) throws -> SignedForward {
            guard case (.forward(let f), _) = try opener.openPlaintext(keyID: s.keyID, sealed: s.sealed) else {
                throw TestFailure("not a forward")
            }
            return f
        }
    }

    func verify(_ f: SignedForward, at org: Org, known: [Org], arrived: Day = Day("2026-11-10")!) -> ForwardVerification {
        ForwardVerifier.verify(f, openedWith: org.intake.publicKey, arrived: arrived, known: known.map(\.known))
    }

    /// A forward that arrives long after the keyring it carries expired is not taken as
    /// verified: its key may have been replaced because it leaked (§11.5 step 4).
    @Test func staleKeyring() throws {
        let a = Org()
        let b = Org()
        let f = try b.open(try a.forward(to: b))
        #expect(verify(f, at: b, known: [a], arrived: Day("2027-01-30")!.adding(days: ForwardVerifier.graceDays)).status == .verified)
        #expect(verify(f, at: b, known: [a], arrived: Day("2027-01-30")!.adding(days: ForwardVerifier.graceDays + 1)).status == .staleKeyring)
    }

    /// §11.5 step 6: once the recipient has seen a newer keyring of the sender that certifies
    /// another forwarding key, forwards signed with the old key under older keyrings are
    /// `replaced_key`; a newer keyring that keeps the key, or an equal or older serial on
    /// record, changes nothing. What a recipient remembers is the keyring the forward carries.
    @Test func aReplacedForwardingKeyIsNoLongerVerified() throws {
        let a = Org()  // keyring serial 2
        let b = Org()
        let f = try b.open(try a.forward(to: b))
        func known(_ newest: ForwardVerifier.NewestKeyring?) -> [ForwardVerifier.KnownOrg] {
            [.init(name: a.known.name, rootPublicKey: a.root.publicKey, newest: newest)]
        }
        func status(_ newest: ForwardVerifier.NewestKeyring?) -> ForwardVerification.Status {
            ForwardVerifier.verify(f, openedWith: b.intake.publicKey, arrived: Day("2026-11-10")!, known: known(newest)).status
        }
        let other = SigningKeyPair.generate().publicKey
        #expect(status(nil) == .verified)
        #expect(status(.init(serial: 3, forwardingKey: other)) == .replacedKey)
        #expect(status(.init(serial: 3, forwardingKey: nil)) == .replacedKey)
        #expect(status(.init(serial: 3, forwardingKey: a.forwarding.publicKey)) == .verified)
        #expect(status(.init(serial: 1, forwardingKey: other)) == .verified)
        let v = ForwardVerifier.verify(f, openedWith: b.intake.publicKey, arrived: Day("2026-11-10")!, known: known(.init(serial: 3, forwardingKey: other)))
        #expect(v.org == a.known.name && !v.isVerified)
        #expect(v.message.contains("replaced") && v.message.contains("certifies another"))
        #expect(ForwardVerifier.carriedKeyring(f)?.root == a.root.publicKey)
        #expect(ForwardVerifier.carriedKeyring(f)?.keyring == .init(serial: 2, forwardingKey: a.forwarding.publicKey))
    }

    /// §11.5 step 7: a root never gives two keyrings one serial (§2.5). A forward signed under a
    /// keyring whose serial the recipient has seen certify another key, or marked conflicting
    /// (it has seen both), is `conflicting_keyring`, whichever of the two it carries.
    @Test func twoKeyringsOfOneSerialAreNotVerified() throws {
        let a = Org()  // keyring serial 2
        let b = Org()
        let f = try b.open(try a.forward(to: b))
        func verify(_ newest: ForwardVerifier.NewestKeyring) -> ForwardVerification {
            ForwardVerifier.verify(
                f, openedWith: b.intake.publicKey, arrived: Day("2026-11-10")!,
                known: [.init(name: a.known.name, rootPublicKey: a.root.publicKey, newest: newest)])
        }
        let other = SigningKeyPair.generate().publicKey
        #expect(verify(.init(serial: 2, forwardingKey: other)).status == .conflictingKeyring)
        #expect(verify(.init(serial: 2, forwardingKey: nil)).status == .conflictingKeyring)
        #expect(verify(.init(serial: 2, forwardingKey: a.forwarding.publicKey, conflicting: true)).status == .conflictingKeyring)
        #expect(verify(.init(serial: 2, forwardingKey: a.forwarding.publicKey)).status == .verified)
        // A conflict in a serial older than the forward's keyring is not this forward's.
        #expect(verify(.init(serial: 1, forwardingKey: other, conflicting: true)).status == .verified)
        // Of a conflicting newer serial, which key the root's owner certified is unknown:
        // whichever key the record keeps (the first seen), a forward under an older keyring
        // is not taken.
        #expect(verify(.init(serial: 3, forwardingKey: other, conflicting: true)).status == .conflictingKeyring)
        #expect(verify(.init(serial: 3, forwardingKey: a.forwarding.publicKey, conflicting: true)).status == .conflictingKeyring)
        #expect(verify(.init(serial: 3, forwardingKey: other)).status == .replacedKey)
        let v = verify(.init(serial: 2, forwardingKey: other))
        #expect(v.org == a.known.name && !v.isVerified && v.message.contains("two different keyrings numbered 2"))
    }

    /// What a recipient remembers of one root (§11.5 steps 6-7): the higher serial; of one
    /// serial, a conflict once two certify different keys, in either order, and kept.
    @Test func keyringsMerge() {
        let k1 = SigningKeyPair.generate().publicKey
        let k2 = SigningKeyPair.generate().publicKey
        let a = ForwardVerifier.NewestKeyring(serial: 4, forwardingKey: k1)
        let b = ForwardVerifier.NewestKeyring(serial: 4, forwardingKey: k2)
        let none = ForwardVerifier.NewestKeyring(serial: 4, forwardingKey: nil)
        let newer = ForwardVerifier.NewestKeyring(serial: 5, forwardingKey: k1)
        #expect(a.merged(with: a) == a)
        #expect(a.merged(with: b) == .init(serial: 4, forwardingKey: k1, conflicting: true))
        #expect(b.merged(with: a) == .init(serial: 4, forwardingKey: k2, conflicting: true))
        #expect(a.merged(with: none).conflicting && none.merged(with: a).conflicting)
        #expect(a.merged(with: b).merged(with: a).conflicting)
        #expect(a.merged(with: newer) == newer && newer.merged(with: b) == newer)
        #expect(a.merged(with: b).merged(with: newer) == newer)
        #expect(newer.merged(with: a.merged(with: b)) == newer)
    }

    @Test func verifiedFromAKnownOrganization() throws {
        let a = Org()
        let b = Org()
        let f = try b.open(try a.forward(to: b))
        let v = verify(f, at: b, known: [a])
        #expect(v.status == .verified, "\(v.message)")
        #expect(v.org == a.known.name)
        #expect(try ForwardDocument.decode(f.document) == a.document())
        // The padded plaintext is a power-of-two size class like any tip (§3.3).
        #expect(PaddedSize.isValid(try a.forward(to: b).sealed.count - SealedBox.overhead, maximum: PaddedSize.defaultMaximum))
    }

    @Test func unknownOrganization() throws {
        let a = Org()
        let b = Org()
        let c = Org()
        let v = verify(try b.open(try a.forward(to: b)), at: b, known: [c])
        #expect(v.status == .unknownOrg)
        #expect(v.rootFingerprint == RootIdentity.document(for: a.root.publicKey).fingerprint)
    }

    @Test func brokenSignature() throws {
        let a = Org()
        let b = Org()
        let f = try b.open(try a.forward(to: b))
        var doc = f.document
        doc[doc.count / 2] ^= 0x01
        let altered = SignedForward(recipient: f.recipient, forwardID: f.forwardID, document: doc, keyring: f.keyring, signer: f.signer, signature: f.signature)
        #expect(verify(altered, at: b, known: [a]).status == .badSignature)
        // The forward id is signed too.
        var id = f.forwardID
        id[0] ^= 0x80
        let moved = SignedForward(recipient: f.recipient, forwardID: id, document: f.document, keyring: f.keyring, signer: f.signer, signature: f.signature)
        #expect(verify(moved, at: b, known: [a]).status == .badSignature)
    }

    /// C receives a forward, opens it and re-seals the same signed forward to B: it still says
    /// it was for C's key, so B refuses it.
    @Test func resealedToAnotherPartner() throws {
        let a = Org()
        let b = Org()
        let c = Org()
        let atC = try c.open(try a.forward(to: c))
        #expect(verify(atC, at: c, known: [a]).status == .verified)
        let plain = [UInt8](atC.encoded())
        let padded = plain.withUnsafeBytes { Padding.pad($0) }
        let resealed = Submission(keyID: b.intake.keyID, sealed: padded.withUnsafeBytes { SealedBox.seal($0, to: b.intake.publicKey) })
        let v = verify(try b.open(resealed), at: b, known: [a])
        #expect(v.status == .wrongRecipient, "\(v.message)")
        // Changing the recipient to B's key breaks the signature instead.
        let retargeted = SignedForward(
            recipient: BLAKE2b.hash(b.intake.publicKey), forwardID: atC.forwardID, document: atC.document, keyring: atC.keyring, signer: atC.signer,
            signature: atC.signature)
        #expect(verify(retargeted, at: b, known: [a]).status == .badSignature)
    }

    @Test func forwardingKeyNotCertifiedByTheRoot() throws {
        let a = Org()
        let b = Org()
        // Signed with a key that A's keyring does not list.
        let rogue = SigningKeyPair.generate()
        #expect(verify(try b.open(try a.forward(to: b, signer: rogue)), at: b, known: [a]).status == .notCertified)
        // A keyring that certifies no forwarding key at all.
        var bare = Org(certify: false)
        bare.keyring = Org(certify: false).keyring
        #expect(verify(try b.open(try bare.forward(to: b)), at: b, known: [a, bare]).status == .notCertified)
        // Mallory certifies her own key under her own root but claims to be A.
        let mallory = Org()
        let claim = try ForwardDocument(org: a.rootID, day: Day("2026-11-02")!, body: "from A, honestly")
        let v = verify(try b.open(try mallory.forward(to: b, document: claim)), at: b, known: [a])
        #expect(v.status == .notCertified, "\(v.message)")
        // A keyring whose root signature is broken.
        var broken = Org()
        var ring = broken.keyring
        ring[ring.count - 10] ^= 0x01
        broken.keyring = ring
        #expect(verify(try b.open(try broken.forward(to: b)), at: b, known: [broken]).status == .notCertified)
    }

    /// PyNaCl, independently, opens a forward TipCrypto sealed to the test-only key, removes
    /// the padding, and checks every signature and binding §11.5 names.
    @Test func swiftForwardVerifiesInPyNaCl() throws {
        let a = Org()
        let key = TestKey.pair()
        let doc = try a.document()
        let (s, _) = try ForwardSealer.seal(doc, keyring: a.keyring, forwardingKey: a.forwarding, to: key.document)
        let secret = try JSONSerialization.jsonObject(with: Data(contentsOf: Repo.vectors.appendingPathComponent("test-only-key.json"))) as! [String: String]
        let script = """
            import base64, hashlib, json, sys
            from nacl.public import PrivateKey, SealedBox
            from nacl.signing import VerifyKey
            env = json.load(sys.stdin)
            sk = PrivateKey(base64.b64decode(sys.argv[1]))
            padded = SealedBox(sk).decrypt(base64.b64decode(env["sealed"]))
            plain = padded[: padded.rindex(b"\\x80")]
            assert all(b == 0 for b in padded[len(plain) + 1 :])
            f = json.loads(plain)
            assert f["type"] == "tipgate-forward" and f["v"] == 1
            assert bytes.fromhex(f["recipient"]) == hashlib.blake2b(bytes(sk.public_key), digest_size=32).digest()
            doc = base64.b64decode(f["document"])
            msg = b"tipgate-forward-v1\\x00" + bytes.fromhex(f["recipient"]) + bytes.fromhex(f["forward_id"]) + doc
            fk = base64.b64decode(f["forwarding_key"])
            VerifyKey(fk).verify(msg, base64.b64decode(f["signature"]))
            ring = json.loads(base64.b64decode(f["keyring"]))
            payload = base64.b64decode(ring["payload"])
            root = base64.b64decode(ring["root_public_key"])
            VerifyKey(root).verify(b"tipgate-keyring-v1\\x00" + payload, base64.b64decode(ring["signature"]))
            p = json.loads(payload)
            assert base64.b64decode(p["forwarding_key"]["public_key"]) == fk
            assert json.loads(doc)["org"] == p["root_key_id"] == hashlib.blake2b(root, digest_size=32).digest()[:8].hex()
            print(json.loads(doc)["body"])
            """
        let r = try run("/usr/bin/python3", ["-c", script, secret["secret_key"]!], stdin: s.encoded())
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == doc.body)
    }

    /// A tip document inside a sealed box still opens as a tip.
    @Test func aTipIsNotAForward() throws {
        let b = Org()
        let s = try TipSealer.seal(TipDocument(body: "a tip"), to: b.intakeDocument)
        guard case (.tip(let d), _) = try b.opener.openPlaintext(keyID: s.keyID, sealed: s.sealed) else {
            Issue.record("a tip opened as a forward")
            return
        }
        #expect(d.body == "a tip")
    }
}

/// The forward formats are closed, like every v1 format (§1): unknown members, a wrong type or
/// version, and bad lengths are refused.
@Suite struct ForwardFormatTests {
    @Test func documentRoundTripAndLimits() throws {
        let d = try ForwardDocument(org: KeyID("0123456789abcdef")!, day: Day("2026-11-02")!, body: "x", note: "n", category: "other")
        #expect(try ForwardDocument.decode(d.encoded()) == d)
        #expect(throws: FormatError.self) { try ForwardDocument(org: d.org, day: d.day, body: "x", category: "Has Space") }
        #expect(throws: FormatError.self) { try ForwardDocument(org: d.org, day: d.day, body: "") }
        #expect(throws: FormatError.self) { try ForwardDocument(org: d.org, day: d.day, body: "x", note: "") }
        var o = try JSONSerialization.jsonObject(with: d.encoded()) as! [String: Any]
        o["extra"] = 1
        #expect(throws: FormatError.self) { try ForwardDocument.decode(try JSONSerialization.data(withJSONObject: o)) }
        o["extra"] = nil
        o["v"] = 2
        #expect((try? ForwardDocument.decode(try JSONSerialization.data(withJSONObject: o))) == nil)
    }

    @Test func signedForwardAndParcelAreClosed() throws {
        let f = SignedForward(
            recipient: [UInt8](repeating: 1, count: 32), forwardID: [UInt8](repeating: 2, count: 16), document: Data("{}".utf8),
            keyring: Data("{}".utf8), signer: [UInt8](repeating: 3, count: 32), signature: [UInt8](repeating: 4, count: 64))
        #expect(try SealedPlaintext.decode(f.encoded()) == .forward(f))
        var o = try JSONSerialization.jsonObject(with: f.encoded()) as! [String: Any]
        o["recipient"] = String(repeating: "ab", count: 31)
        #expect(throws: FormatError.self) { try SignedForward.decode(try JSONSerialization.data(withJSONObject: o)) }
        o["recipient"] = String(repeating: "ab", count: 32)
        o["more"] = true
        #expect(throws: FormatError.self) { try SealedPlaintext.decode(try JSONSerialization.data(withJSONObject: o)) }

        let p = ForwardParcel(
            id: TipID(String(repeating: "a", count: 32))!, day: Day("2026-11-29")!, deliverTo: "https://partner.example", keyID: KeyID("0123456789abcdef")!,
            sealed: [UInt8](repeating: 9, count: 1024 + 48))
        #expect(ForwardParcel.looksLikeParcel(p.encoded()))
        #expect(try ForwardParcel.decode(p.encoded()) == p)
        let http = ForwardParcel(id: p.id, day: p.day, deliverTo: "http://partner.example", keyID: p.keyID, sealed: p.sealed)
        #expect(throws: FormatError.self) { try ForwardParcel.decode(http.encoded()) }
        // deliver_to is printable ASCII only (§11.4): the courier prints it. A C1 control (CSI,
        // which a terminal reads as ESC [), a bidi override, Unicode spaces and non-ASCII.
        for to in [
            "https://a.example/\u{9b}31m", "https://a.example/\u{202e}", "https://a\u{a0}b.example", "https://a.example\u{2028}", "https://пример.example",
        ] {
            let bad = ForwardParcel(id: p.id, day: p.day, deliverTo: to, keyID: p.keyID, sealed: p.sealed)
            #expect(throws: FormatError("bad_parcel", "not a v1 forward parcel (it may be truncated)"), "\(to.unicodeScalars.map(\.value))") {
                try ForwardParcel.decode(bad.encoded())
            }
        }
        let ascii = ForwardParcel(id: p.id, day: p.day, deliverTo: "https://xn--e1afmkfd.example:8443/x~y", keyID: p.keyID, sealed: p.sealed)
        #expect(try ForwardParcel.decode(ascii.encoded()) == ascii)
        let short = ForwardParcel(id: p.id, day: p.day, deliverTo: nil, keyID: p.keyID, sealed: [UInt8](repeating: 9, count: 1000))
        #expect(throws: FormatError.self) { try ForwardParcel.decode(short.encoded()) }
    }
}

/// Forward vectors made by PyNaCl (Tests/Vectors/generate_forward.py): one per verification
/// outcome and opening failure, each run three ways: as the partner's server sees it (an
/// ordinary submission), verified with the test-only root known (and, with a `newest` header,
/// the newest keyring of it the recipient has seen, §11.5 steps 6-7), and with no organization
/// known (where only a verified, replaced-key or conflicting-keyring forward changes, to
/// `unknown_org`).
@Suite struct ForwardVectorTests {
    static let root: [UInt8] = KeyringVectorTests.root.publicKey

    @Test func vectorsExist() { #expect(Vector.load("forward").count >= 22) }

    /// The `newest` header: "SERIAL KEY [conflicting]", KEY in base64 or `none`.
    static func newest(_ v: Vector) -> ForwardVerifier.NewestKeyring? {
        guard let h = v.headers["newest"] else { return nil }
        let parts = h.split(separator: " ").map(String.init)
        guard [2, 3].contains(parts.count), let serial = Int(parts[0]), parts.count == 2 || parts[2] == "conflicting" else { return nil }
        return .init(
            serial: serial, forwardingKey: parts[1] == "none" ? nil : Data(base64Encoded: parts[1]).map(Array.init),
            conflicting: parts.count == 3)
    }

    @Test(arguments: Vector.load("forward"))
    func vector(_ v: Vector) throws {
        let key = TestKey.pair()
        // 1. The partner's server: an ordinary, valid submission, whatever it holds.
        let s = try Submission.validate(v.payload.prefix(while: { $0 != 0x0a }), isKnownKey: { $0 == key.keyID })
        // Opened as import opens it (§3.6, §11.5): a forward whose document does not parse
        // is an opening error, kept sealed, never a tip.
        let f: SignedForward
        do {
            guard case (.forward(let opened), _) = try TipOpener(keys: [key]).openPlaintext(keyID: s.keyID, sealed: s.sealed) else {
                Issue.record("\(v.name) opened as a tip")
                return
            }
            _ = try ForwardDocument.decode(opened.document)
            f = opened
        } catch let e as FormatError {
            #expect(e.code == v.expect, "\(v.name): \(e)")
            return
        }
        // 2. With the sender's root known.
        let arrived = Day(v.headers["arrived"] ?? "2026-11-10")!
        if v.headers["newest"] != nil { _ = try #require(Self.newest(v), "\(v.name): a malformed newest header") }
        let org = ForwardVerifier.KnownOrg(name: "Test org", rootPublicKey: Self.root, newest: Self.newest(v))
        let known = ForwardVerifier.verify(f, openedWith: key.publicKey, arrived: arrived, known: [org])
        #expect(known.status.rawValue == v.expect, "\(v.name): \(known.message)")
        // 3. With no organization known.
        let none = ForwardVerifier.verify(f, openedWith: key.publicKey, arrived: arrived, known: [])
        #expect(
            none.status.rawValue == (["verified", "replaced_key", "conflicting_keyring"].contains(v.expect) ? "unknown_org" : v.expect),
            "\(v.name): \(none.message)")
    }
}
