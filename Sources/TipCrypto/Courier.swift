import Foundation
import TipCore

/// The courier's transport key (SECURITY.md §5.1): Ed25519, on the online machine, in a 0600
/// file that is not passphrase-protected because the key only lets its holder fetch sealed
/// tips and push signed acks; it opens nothing and can delete only what the root acknowledged.
///
///     tipdesk-courier-key v1
///     {"key_id":"…","public_key":"<base64>","secret_key":"<base64 of 64 bytes>"}
public enum CourierKey {
    public static let magic = "tipdesk-courier-key v1\n"

    public static func document(for publicKey: [UInt8]) -> CourierKeyDocument { .derived(from: publicKey) }

    public static func verifiedDocument(_ data: Data) throws -> CourierKeyDocument { try .verified(data) }

    public static func encode(_ pair: SigningKeyPair) -> Data {
        let json = pair.secretKey.withUnsafeBytes { sk in
            "{\"key_id\":\"\(KeyIdentity.keyID(for: pair.publicKey))\",\"public_key\":\"\(Data(pair.publicKey).base64EncodedString())\",\"secret_key\":\"\(Data(sk).base64EncodedString())\"}\n"
        }
        return Data((magic + json).utf8)
    }

    public static func decode(_ file: Data) throws -> SigningKeyPair {
        let bad = CryptoError.badKeyFile("not a tipdesk courier key file")
        guard file.starts(with: Data(magic.utf8)),
            let o = try? JSONSerialization.jsonObject(with: file.dropFirst(magic.utf8.count)) as? [String: String],
            let pk = o["public_key"].flatMap(StrictBase64.decode), var sk = o["secret_key"].flatMap(StrictBase64.decode)
        else { throw bad }
        defer { sk.resetBytes(in: 0..<sk.count) }
        return try SigningKeyPair(publicKey: Array(pk), secretKey: SecureBytes(copying: sk))
    }

    /// The headers of a signed admin request.
    public static func sign(method: String, path: String, body: Data, with key: SigningKeyPair, now: Int) -> [(String, String)] {
        let nonce = Hex.encode(Random.bytes(16))
        let m = AdminRequest.message(method: method, path: path, timestamp: now, nonce: nonce, bodySHA512: SHA512.hash(body))
        return [
            (AdminRequest.keyHeader, KeyIdentity.keyID(for: key.publicKey).hex),
            (AdminRequest.timestampHeader, String(now)),
            (AdminRequest.nonceHeader, nonce),
            (AdminRequest.signatureHeader, Data(key.sign(m)).base64EncodedString()),
        ]
    }
}

/// Signs and verifies acknowledgements (SECURITY.md §5.2).
public enum AckSigner {
    public static func sign(_ ack: AckPayload, with root: SigningKeyPair) -> SignedDocument {
        let bytes = ack.encoded()
        return SignedDocument(
            payload: bytes, rootPublicKey: root.publicKey, signature: root.sign(SignedDocument.message(SignedDocument.ackContext, bytes)))
    }

    public static func verify(_ file: Data, pin: KeyringSigner.Pin) throws -> AckPayload {
        let signed = try KeyringSigner.verifySigned(file, context: SignedDocument.ackContext, kind: "ack", pin: pin)
        return try AckPayload.decode(signed.payload)
    }
}
