import Foundation

/// The public key document (SECURITY.md §2.2): served at `GET /api/v1/key` and kept as a file.
///
/// TipCore checks the shape. `TipCrypto.PublicKeyDocument.verified()` checks that `key_id` and
/// `fingerprint` are really derived from `public_key`; every reader MUST call it.
public struct PublicKeyDocument: Equatable, Sendable {
    public static let version = 1
    public let keyID: KeyID
    public let publicKey: [UInt8]
    public let fingerprint: String

    public init(keyID: KeyID, publicKey: [UInt8], fingerprint: String) {
        self.keyID = keyID
        self.publicKey = publicKey
        self.fingerprint = fingerprint
    }

    public func encoded() -> Data {
        var d = StrictJSON.encode(
            Wire(v: Self.version, key_id: keyID.hex, public_key: Data(publicKey).base64EncodedString(), fingerprint: fingerprint)
        )
        d.append(0x0a)
        return d
    }

    public static func decode(_ data: Data) throws -> PublicKeyDocument {
        let w = try StrictJSON.decode(Wire.self, from: data)
        guard w.v == version else { throw FormatError("unsupported_version", "key document version \(w.v) is not supported") }
        guard let id = KeyID(w.key_id) else { throw FormatError("invalid_key_id", "key_id must be 16 lowercase hex digits") }
        guard let pk = StrictBase64.decode(w.public_key), pk.count == 32 else {
            throw FormatError("invalid_public_key", "public_key must be 32 bytes in standard base64")
        }
        return PublicKeyDocument(keyID: id, publicKey: Array(pk), fingerprint: w.fingerprint)
    }

    struct Wire: Codable {
        var v: Int
        var key_id: String
        var public_key: String
        var fingerprint: String

        init(v: Int, key_id: String, public_key: String, fingerprint: String) {
            self.v = v
            self.key_id = key_id
            self.public_key = public_key
            self.fingerprint = fingerprint
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["v", "key_id", "public_key", "fingerprint"])
            v = try c.require(Int.self, "v")
            key_id = try c.require(String.self, "key_id")
            public_key = try c.require(String.self, "public_key")
            fingerprint = try c.require(String.self, "fingerprint")
        }
    }
}
