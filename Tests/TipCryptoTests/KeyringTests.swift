import Foundation
import Testing
import TipCore
import TipTestSupport

@testable import TipCrypto

/// Keyring vectors (Tests/Vectors/keyring, made with PyNaCl): each verified against the pinned
/// test-only root on the vector's day, expecting success or exactly one error code.
@Suite struct KeyringVectorTests {
    static let root: RootKeyDocument = {
        let json = try! JSONSerialization.jsonObject(with: Data(contentsOf: Repo.vectors.appendingPathComponent("test-only-root.json"))) as! [String: Any]
        let doc = try! JSONSerialization.data(withJSONObject: json["document"]!)
        return try! RootIdentity.verifiedDocument(doc)
    }()

    @Test func vectorsExist() { #expect(Vector.load("keyring").count >= 18) }

    @Test(arguments: Vector.load("keyring"))
    func vector(_ v: Vector) {
        let today = Day(v.headers["today"]!)!
        for pin in [KeyringSigner.Pin.key(Self.root.publicKey), .fingerprint(Self.root.fingerprint)] {
            do {
                let (_, payload) = try KeyringSigner.verify(v.payload, pin: pin, today: today)
                #expect(v.expect == "success", "\(v.name) verified")
                #expect(payload.intakeKeys.count == 2)
            } catch let e as FormatError {
                #expect(e.code == v.expect, "\(v.name): \(e)")
            } catch {
                Issue.record("\(v.name): \(error)")
            }
        }
    }

    // The fingerprint pin needs the root: prefix, so an intake fingerprint can't be pasted in.
    @Test func fingerprintPinNeedsPrefix() throws {
        let good = Vector.load("keyring").first { $0.name == "01-good" }!
        let bare = String(Self.root.fingerprint.dropFirst("root:".count))
        #expect(throws: FormatError.self) { try KeyringSigner.verify(good.payload, pin: .fingerprint(bare), today: Day("2026-11-10")) }
    }
}

@Suite struct KeyringSigningTests {
    // A keyring signed by TipCrypto verifies with PyNaCl: the other direction of the vectors.
    @Test func swiftSignedKeyringVerifiesInPyNaCl() throws {
        let root = SigningKeyPair.generate()
        let k = IntakeKeyPair.generate()
        let payload = KeyringPayload(
            serial: 1, issued: .today, expires: Day.today.adding(days: 90), rootKeyID: root.rootDocument.keyID,
            intakeKeys: [IntakeKeyEntry(keyID: k.keyID, publicKey: k.publicKey, notBefore: .today)], scripts: [:])
        let file = KeyringSigner.sign(payload, with: root).encoded()
        let script = """
            import base64, json, sys
            from nacl.signing import VerifyKey
            w = json.load(sys.stdin)
            p = base64.b64decode(w["payload"])
            VerifyKey(base64.b64decode(w["root_public_key"])).verify(b"tipgate-keyring-v1\\x00" + p, base64.b64decode(w["signature"]))
            print(json.loads(p)["intake_keys"][0]["key_id"])
            """
        let r = try run("/usr/bin/python3", ["-c", script], stdin: file)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == k.keyID.hex)
        #expect(throws: Never.self) { try KeyringSigner.verify(file, pin: .key(root.publicKey), today: .today) }
    }

    @Test func rootFingerprintIsPrefixed() {
        let root = SigningKeyPair.generate()
        #expect(root.rootDocument.fingerprint.hasPrefix("root:"))
        #expect(RootIdentity.normalize(root.rootDocument.fingerprint.uppercased().replacingOccurrences(of: "ROOT:", with: "root:")) != nil)
        #expect(RootIdentity.normalize(KeyIdentity.fingerprint(for: root.publicKey)) == nil)
    }
}
