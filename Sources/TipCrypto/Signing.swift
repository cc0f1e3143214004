import CSodium
import Foundation
import TipCore

/// An Ed25519 keypair (`crypto_sign`): the organization's root. The 64-byte libsodium secret
/// key never leaves `SecureBytes`.
public final class SigningKeyPair {
    public let publicKey: [UInt8]
    public let secretKey: SecureBytes

    public init(publicKey: [UInt8], secretKey: SecureBytes) throws {
        guard publicKey.count == 32, secretKey.count == 64 else { throw CryptoError.badKeyFile("an Ed25519 key pair is 32 + 64 bytes") }
        // libsodium's secret key carries the public key in its last 32 bytes.
        guard secretKey.withUnsafeBytes({ Array($0.suffix(32)) }) == publicKey else {
            throw CryptoError.badKeyFile("the secret key does not match its public key")
        }
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    public static func generate() -> SigningKeyPair {
        Sodium.ready()
        var pk = [UInt8](repeating: 0, count: 32)
        let sk = SecureBytes(count: 64)
        sk.withUnsafeMutableBytes { _ = crypto_sign_keypair(&pk, $0.bindMemory(to: UInt8.self).baseAddress!) }
        return try! SigningKeyPair(publicKey: pk, secretKey: sk)
    }

    public func sign(_ message: Data) -> [UInt8] {
        var sig = [UInt8](repeating: 0, count: 64)
        message.withUnsafeBytes { m in
            secretKey.withUnsafeBytes { sk in
                _ = crypto_sign_detached(
                    &sig, nil, m.bindMemory(to: UInt8.self).baseAddress, UInt64(m.count), sk.bindMemory(to: UInt8.self).baseAddress!)
            }
        }
        return sig
    }

    public static func verify(_ signature: [UInt8], _ message: Data, publicKey: [UInt8]) -> Bool {
        Sodium.ready()
        guard signature.count == 64, publicKey.count == 32 else { return false }
        return message.withUnsafeBytes { m in
            crypto_sign_verify_detached(signature, m.bindMemory(to: UInt8.self).baseAddress, UInt64(m.count), publicKey) == 0
        }
    }

    public var rootDocument: RootKeyDocument { RootIdentity.document(for: publicKey) }
}

/// How a root key is named (SECURITY.md §2.4): like an intake key, with a `root:` prefix on
/// the fingerprint so the two can never be confused.
public enum RootIdentity {
    public static func document(for publicKey: [UInt8]) -> RootKeyDocument { .derived(from: publicKey) }

    /// A root document whose id and fingerprint derive from its key.
    public static func verifiedDocument(_ data: Data) throws -> RootKeyDocument { try .verified(data) }

    /// Normalizes a typed fingerprint: `root:` prefix required, spaces and case ignored.
    public static func normalize(_ fingerprint: String) -> String? {
        let lower = fingerprint.lowercased()
        guard lower.hasPrefix(RootKeyDocument.fingerprintPrefix) else { return nil }
        let hex = lower.dropFirst(RootKeyDocument.fingerprintPrefix.count).filter { $0 != " " }
        return Hex.isLowercaseHex(String(hex), length: 64) ? String(hex) : nil
    }
}

/// Signs and verifies keyrings (SECURITY.md §2.5).
public enum KeyringSigner {
    public static func sign(_ payload: KeyringPayload, with root: SigningKeyPair) -> SignedKeyring {
        let bytes = payload.encoded()
        return SignedKeyring(payload: bytes, rootPublicKey: root.publicKey, signature: root.sign(SignedKeyring.signedMessage(bytes)))
    }

    /// The pinned root: its public key, or the fingerprint a person typed.
    public enum Pin: Sendable {
        case key([UInt8])
        case fingerprint(String)
    }

    /// Verifies a root-signed document's wrapper, pinned root and signature, in that order
    /// (§2.5); the caller parses the payload only after this returns.
    public static func verifySigned(_ file: Data, context: String, kind: String, pin: Pin) throws -> SignedDocument {
        let signed = try SignedDocument.decode(file, kind: kind)
        let pinned: Bool =
            switch pin {
            case .key(let k): k == signed.rootPublicKey
            case .fingerprint(let fp): RootIdentity.normalize(fp) == Hex.encode(BLAKE2b.hash(signed.rootPublicKey))
            }
        guard pinned else { throw FormatError("wrong_root", "the \(kind) is signed by a root other than the pinned one") }
        guard SigningKeyPair.verify(signed.signature, SignedDocument.message(context, signed.payload), publicKey: signed.rootPublicKey) else {
            throw FormatError("bad_signature", "the \(kind)'s signature is not valid")
        }
        return signed
    }

    /// Verifies in the order §2.5 prescribes: wrapper, pinned root, signature, and only then the
    /// payload. `today`, when given, also refuses an expired keyring.
    public static func verify(_ file: Data, pin: Pin, today: Day? = nil) throws -> (SignedKeyring, KeyringPayload) {
        let signed = try verifySigned(file, context: SignedDocument.context, kind: "keyring", pin: pin)
        let payload = try KeyringPayload.decode(signed.payload)
        guard payload.rootKeyID == KeyIdentity.keyID(for: signed.rootPublicKey) else {
            throw FormatError("bad_keyring", "root_key_id does not name the signing root")
        }
        for k in payload.intakeKeys where KeyIdentity.keyID(for: k.publicKey) != k.keyID {
            throw FormatError("bad_keyring", "an intake key's id is not derived from its key")
        }
        if let f = payload.forwardingKey, KeyIdentity.keyID(for: f.publicKey) != f.keyID {
            throw FormatError("bad_keyring", "the forwarding key's id is not derived from its key")
        }
        if let today, payload.isExpired(on: today) {
            throw FormatError("keyring_expired", "the keyring expired on \(payload.expires); re-sign it with: tipdesk keys renew")
        }
        return (signed, payload)
    }
}
