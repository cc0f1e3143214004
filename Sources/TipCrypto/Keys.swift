import CSodium
import Foundation
import TipCore

/// An X25519 intake keypair (`crypto_box`). The secret half never leaves `SecureBytes`.
public final class IntakeKeyPair {
    public let publicKey: [UInt8]
    public let secretKey: SecureBytes

    public init(publicKey: [UInt8], secretKey: SecureBytes) throws {
        guard publicKey.count == 32, secretKey.count == 32 else { throw CryptoError.badKeyFile("an X25519 key is 32 bytes") }
        // A secret key that does not match its public key would open nothing; catch it at load.
        var derived = [UInt8](repeating: 0, count: 32)
        secretKey.withUnsafeBytes { _ = crypto_scalarmult_base(&derived, $0.bindMemory(to: UInt8.self).baseAddress!) }
        guard derived == publicKey else { throw CryptoError.badKeyFile("the secret key does not match its public key") }
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    public static func generate() -> IntakeKeyPair {
        Sodium.ready()
        var pk = [UInt8](repeating: 0, count: 32)
        let sk = SecureBytes(count: 32)
        sk.withUnsafeMutableBytes { _ = crypto_box_keypair(&pk, $0.bindMemory(to: UInt8.self).baseAddress!) }
        return try! IntakeKeyPair(publicKey: pk, secretKey: sk)
    }

    public var keyID: KeyID { KeyIdentity.keyID(for: publicKey) }
    public var document: PublicKeyDocument { KeyIdentity.document(for: publicKey) }
}

/// How a public key is named (SECURITY.md §2.1).
public enum KeyIdentity {
    /// Lowercase hex of the first 8 bytes of BLAKE2b-256(public key).
    public static func keyID(for publicKey: [UInt8]) -> KeyID {
        KeyID(Hex.encode(BLAKE2b.hash(publicKey).prefix(8)))!
    }

    /// The full BLAKE2b-256 in lowercase hex, in space-separated groups of 4, for people to
    /// compare out of band.
    public static func fingerprint(for publicKey: [UInt8]) -> String {
        let hex = Array(Hex.encode(BLAKE2b.hash(publicKey)))
        return stride(from: 0, to: hex.count, by: 4).map { String(hex[$0..<$0 + 4]) }.joined(separator: " ")
    }

    public static func document(for publicKey: [UInt8]) -> PublicKeyDocument {
        PublicKeyDocument(keyID: keyID(for: publicKey), publicKey: publicKey, fingerprint: fingerprint(for: publicKey))
    }

    /// Parses a key document and checks that its key_id and fingerprint derive from its key.
    /// A reader MUST NOT trust a document that fails this (SECURITY.md §2.2).
    public static func verifiedDocument(_ data: Data) throws -> PublicKeyDocument {
        let doc = try PublicKeyDocument.decode(data)
        guard doc.keyID == keyID(for: doc.publicKey) else {
            throw FormatError("key_id_mismatch", "key_id is not derived from public_key")
        }
        guard doc.fingerprint == fingerprint(for: doc.publicKey) else {
            throw FormatError("fingerprint_mismatch", "fingerprint is not derived from public_key")
        }
        return doc
    }
}

extension TypedKeyDocument {
    /// The document of `publicKey`: id and fingerprint derived as in §2.1, with the kind's
    /// prefix on the fingerprint.
    public static func derived(from publicKey: [UInt8]) -> Self {
        Self(keyID: KeyIdentity.keyID(for: publicKey), publicKey: publicKey, fingerprint: fingerprintPrefix + KeyIdentity.fingerprint(for: publicKey))
    }

    /// Parses a document and checks that its id and fingerprint derive from its key; a reader
    /// MUST NOT use one that fails (the rule of §2.2).
    public static func verified(_ data: Data) throws -> Self {
        let doc = try decode(data)
        guard doc == derived(from: doc.publicKey) else {
            throw FormatError("bad_\(Kind.type)_key", "the \(Kind.type) key's id or fingerprint is not derived from its key")
        }
        return doc
    }
}
