import Foundation
import TipCore

/// Signs, seals and verifies forwards (SECURITY.md §11.3).
public enum ForwardSealer {
    /// Signs `document` for the partner key `recipient` with the forwarding key, pads the signed
    /// forward and seals it to that key, as a witness's client seals a tip: to the partner's
    /// server it is an ordinary sealed tip.
    public static func seal(
        _ document: ForwardDocument, keyring: Data, forwardingKey: SigningKeyPair, to recipient: PublicKeyDocument,
        maxPadded: Int = PaddedSize.defaultMaximum
    ) throws -> (submission: Submission, forward: SignedForward) {
        let fingerprint = BLAKE2b.hash(recipient.publicKey)
        let id = Random.bytes(SignedForward.forwardIDBytes)
        var doc = document.encoded()
        defer { doc.resetBytes(in: 0..<doc.count) }
        let message = SignedForward.signedMessage(recipient: fingerprint, forwardID: id, document: doc)
        let signed = SignedForward(
            recipient: fingerprint, forwardID: id, document: doc, keyring: keyring, signer: forwardingKey.publicKey,
            signature: forwardingKey.sign(message))
        var plain = [UInt8](signed.encoded())
        defer { zero(&plain) }
        let submission = try TipSealer.seal(
            plaintext: plain, to: recipient, maxPadded: maxPadded, tooLarge: "the forward is too large once signed and encoded; share less of the tip")
        return (submission, signed)
    }
}

/// What the recipient learns about a forward (SECURITY.md §11.5), in the order of the checks.
public struct ForwardVerification: Equatable, Sendable {
    public enum Status: String, Sendable, Equatable {
        /// Signed by the forwarding key that a known organization's root certified.
        case verified
        /// Addressed to another key: someone it was sent to re-sealed it to this vault.
        case wrongRecipient = "wrong_recipient"
        /// The forwarding key's signature does not verify: the forward was altered.
        case badSignature = "bad_signature"
        /// The signing key is not the forwarding key the carried keyring certifies under its root.
        case notCertified = "not_certified"
        /// It arrived long after the keyring it carries expired: the forwarding key may have
        /// been replaced since, perhaps because it leaked (§11.5 step 4).
        case staleKeyring = "stale_keyring"
        /// Certified, but by a root this vault does not know (`tipdesk orgs add`).
        case unknownOrg = "unknown_org"
        /// Signed under an older keyring of a known organization, with a forwarding key that a
        /// newer keyring of it no longer certifies: the key was replaced, perhaps because it
        /// leaked (§11.5 step 6).
        case replacedKey = "replaced_key"
        /// Signed under a keyring whose serial the organization's root also gave a keyring that
        /// certifies another forwarding key: a root never reuses a serial (§2.5), so its key
        /// may be in other hands and either keyring may be forged (§11.5 step 7).
        case conflictingKeyring = "conflicting_keyring"
    }

    public let status: Status
    /// The name this vault gave the sender (`tipdesk orgs add`), when verified, or when the
    /// sender has since replaced the key that signed (`replaced_key`) or its root signed two
    /// keyrings of one serial (`conflicting_keyring`).
    public let org: String?
    /// The fingerprint of the root whose keyring the forward carries (`root:…`), if it parsed.
    public let rootFingerprint: String?
    public let message: String

    public var isVerified: Bool { status == .verified }
}

public enum ForwardVerifier {
    /// A known organization: the name this vault gave it, its root public key, and the newest
    /// of its keyrings this vault has seen (§11.5 step 6), if any.
    public struct KnownOrg: Sendable {
        public let name: String
        public let rootPublicKey: [UInt8]
        public let newest: NewestKeyring?
        public init(name: String, rootPublicKey: [UInt8], newest: NewestKeyring? = nil) {
            (self.name, self.rootPublicKey, self.newest) = (name, rootPublicKey, newest)
        }
    }

    /// The newest keyring of an organization a recipient has seen: its serial and the
    /// forwarding key it certifies (nil if it certifies none), and whether the recipient has
    /// also seen a keyring of that serial from that root certifying another key (§11.5 step 7).
    public struct NewestKeyring: Equatable, Sendable {
        public let serial: Int
        public let forwardingKey: [UInt8]?
        public let conflicting: Bool
        public init(serial: Int, forwardingKey: [UInt8]?, conflicting: Bool = false) {
            (self.serial, self.forwardingKey, self.conflicting) = (serial, forwardingKey, conflicting)
        }

        /// What a recipient knows after seeing both `self` and `other` of one root: the higher
        /// serial; of one serial, either with `conflicting` set if they certify different keys.
        public func merged(with other: NewestKeyring) -> NewestKeyring {
            if other.serial != serial { return other.serial > serial ? other : self }
            let conflict = conflicting || other.conflicting || other.forwardingKey != forwardingKey
            return NewestKeyring(serial: serial, forwardingKey: forwardingKey, conflicting: conflict)
        }
    }

    /// Days after a keyring's `expires` that a forward signed under it is still taken: a
    /// courier's round trip, not a leaked key's lifetime.
    public static let graceDays = 30

    /// Checks a forward opened with the key `openedWith`: recipient, signature, certification
    /// by the carried keyring's root, the document's org, the keyring's age on `arrived` (the
    /// day the recipient's server received it), whether that root is known, whether a newer
    /// keyring of it has replaced the key that signed, and whether its root signed another
    /// keyring of the same serial.
    public static func verify(_ f: SignedForward, openedWith: [UInt8], arrived: Day, known: [KnownOrg]) -> ForwardVerification {
        func result(_ s: ForwardVerification.Status, _ why: String, org: String? = nil, root: [UInt8]? = nil) -> ForwardVerification {
            ForwardVerification(status: s, org: org, rootFingerprint: root.map { RootIdentity.document(for: $0).fingerprint }, message: why)
        }
        guard VaultDataKey.macsEqual(f.recipient, BLAKE2b.hash(openedWith)) else {
            return result(.wrongRecipient, "it was addressed to another organization's key and re-sealed to this vault")
        }
        guard SigningKeyPair.verify(f.signature, f.signedMessage, publicKey: f.signer) else {
            return result(.badSignature, "its signature does not verify: it was altered after it was signed")
        }
        guard let (root, payload) = signedKeyring(f) else {
            return result(.notCertified, "the keyring it carries is not validly signed by any root")
        }
        guard let fk = payload.forwardingKey, fk.publicKey == f.signer, fk.keyID == KeyIdentity.keyID(for: fk.publicKey) else {
            return result(.notCertified, "it was signed by a key the sender's root has not certified as its forwarding key", root: root)
        }
        guard let doc = try? ForwardDocument.decode(f.document), doc.org == payload.rootKeyID else {
            return result(.notCertified, "the document names another organization than the root that certified its key", root: root)
        }
        guard arrived <= payload.expires.adding(days: graceDays) else {
            return result(
                .staleKeyring, "it arrived on \(arrived), long after the sender's keyring it was signed under expired (\(payload.expires))",
                root: root)
        }
        guard let org = known.first(where: { $0.rootPublicKey == root }) else {
            return result(.unknownOrg, "it comes from an organization this vault does not know", root: root)
        }
        // A stolen forwarding key signs under the keyrings that certified it until they go
        // stale (step 4); once this vault has seen a newer keyring that certifies another key,
        // forwards signed with the old one under older keyrings are not taken as verified.
        // (Of a conflicting newest serial, which key it certifies is unknown: step 7.)
        if let n = org.newest, payload.serial < n.serial, !n.conflicting, n.forwardingKey != f.signer {
            let now = n.forwardingKey == nil ? "certifies none" : "certifies another"
            return result(
                .replacedKey,
                "it was signed with a forwarding key that \(org.name) has since replaced (its keyring \(n.serial) \(now)); "
                    + "if the key was replaced because it leaked, this forward may be forged", org: org.name, root: root)
        }
        // A root never gives two keyrings one serial (§2.5). If it did, its key signed one of
        // them without its owner, perhaps to certify a thief's forwarding key next to the real
        // one. Which one the root's owner signed is unknown, so no forward under that serial,
        // or under an older one (whose key step 6 cannot check), is taken, in whatever order
        // the two keyrings came.
        if let n = org.newest, (n.conflicting && payload.serial <= n.serial) || (payload.serial == n.serial && n.forwardingKey != f.signer) {
            return result(
                .conflictingKeyring,
                "\(org.name)'s root signed two different keyrings numbered \(n.serial): its root key may be in other hands, "
                    + "and this forward may be forged; confirm it with \(org.name) over a channel you trust", org: org.name, root: root)
        }
        return result(.verified, "forwarded by \(org.name) (verified)", org: org.name, root: root)
    }

    /// The keyring a forward carries, if it is one its own root signed and that a keyring
    /// reader takes (§2.5, `KeyringSigner.verify` pinned to that root; its age does not matter):
    /// its root, and its serial and forwarding key, which a recipient remembers (§11.5 step 6)
    /// whatever the rest of the forward is, since a keyring is the root's own word.
    public static func carriedKeyring(_ f: SignedForward) -> (root: [UInt8], keyring: NewestKeyring)? {
        guard let root = (try? SignedDocument.decode(f.keyring))?.rootPublicKey,
            let (_, payload) = try? KeyringSigner.verify(f.keyring, pin: .key(root))
        else { return nil }
        return (root, .init(serial: payload.serial, forwardingKey: payload.forwardingKey?.publicKey))
    }

    /// The carried keyring's root and payload, if the root's signature verifies and the payload
    /// names that root (§11.5 step 3).
    private static func signedKeyring(_ f: SignedForward) -> (root: [UInt8], payload: KeyringPayload)? {
        guard let ring = try? SignedDocument.decode(f.keyring),
            SigningKeyPair.verify(ring.signature, SignedDocument.signedMessage(ring.payload), publicKey: ring.rootPublicKey),
            let payload = try? KeyringPayload.decode(ring.payload),
            payload.rootKeyID == KeyIdentity.keyID(for: ring.rootPublicKey)
        else { return nil }
        return (ring.rootPublicKey, payload)
    }
}

extension TipOpener {
    /// Opens a sealed box and tells a tip from a forward (§11.3). Also returns the public key
    /// that opened it, which a forward's recipient is checked against.
    public func openPlaintext(keyID: KeyID, sealed: [UInt8]) throws -> (SealedPlaintext, openedWith: [UInt8]) {
        var scratch = SecureBytes(count: max(sealed.count - SealedBox.overhead, 0))
        return try openPlaintext(keyID: keyID, sealed: sealed, scratch: &scratch)
    }

    /// As above, decrypting into `scratch`, a locked buffer the caller reuses (and which is
    /// wiped here before returning).
    public func openPlaintext(keyID: KeyID, sealed: [UInt8], scratch: inout SecureBytes) throws -> (SealedPlaintext, openedWith: [UInt8]) {
        guard let key = key(keyID) else {
            throw CryptoError("no_matching_key", "no key in this vault matches key id \(keyID)")
        }
        let padded = try SealedBox.open(sealed, with: key, into: &scratch)
        let buffer = scratch
        defer { buffer.wipe(prefix: padded) }
        return try buffer.withUnsafeBytes { whole in
            let raw = UnsafeRawBufferPointer(rebasing: whole[0..<padded])
            let n = try Padding.unpaddedLength(raw)
            return (try SealedPlaintext.decode(Data(raw.prefix(n))), key.publicKey)
        }
    }
}
