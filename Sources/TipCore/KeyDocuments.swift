import Foundation

/// Public documents of the keys that are not intake keys: the root (§2.4), a courier's
/// transport key (§5.1) and a vault's sharing key (§10). One shape,
///
///     {"fingerprint":"<prefix><64 hex in groups of 4>","key_id":"<16 hex>","public_key":"<base64>","type":"<type>","v":1}
///
/// where `key_id` and the fingerprint's hex are computed as in §2.1, and the fingerprint's
/// prefix (`root:`, `courier:`, `vault:`) names the kind wherever a person sees or types it, so
/// one kind of key can never be mistaken for another or for an intake key.
public protocol KeyDocumentKind: Sendable {
    /// The `type` member.
    static var type: String { get }
    /// The fingerprint's prefix, like `root:`.
    static var prefix: String { get }
}

public enum RootKind: KeyDocumentKind {
    public static var type: String { "root" }
    public static var prefix: String { "root:" }
}

public enum CourierKind: KeyDocumentKind {
    public static var type: String { "courier" }
    public static var prefix: String { "courier:" }
}

public enum VaultKind: KeyDocumentKind {
    public static var type: String { "vault" }
    public static var prefix: String { "vault:" }
}

/// The organization's forwarding key (SECURITY.md §11.3), certified by the root's keyring.
public enum ForwardingKind: KeyDocumentKind {
    public static var type: String { "forwarding" }
    public static var prefix: String { "forwarding:" }
}

public typealias RootKeyDocument = TypedKeyDocument<RootKind>
public typealias ForwardingKeyDocument = TypedKeyDocument<ForwardingKind>
public typealias CourierKeyDocument = TypedKeyDocument<CourierKind>
public typealias VaultKeyDocument = TypedKeyDocument<VaultKind>

public struct TypedKeyDocument<Kind: KeyDocumentKind>: Equatable, Sendable {
    public static var version: Int { 1 }
    public static var fingerprintPrefix: String { Kind.prefix }
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
            KeyDocumentWire(
                v: Self.version, type: Kind.type, key_id: keyID.hex, public_key: Data(publicKey).base64EncodedString(),
                fingerprint: fingerprint))
        d.append(0x0a)
        return d
    }

    /// Parses the shape; the crypto layer checks that the id and fingerprint derive from the
    /// key. The error code is `bad_<type>_key`.
    public static func decode(_ data: Data) throws -> Self {
        let bad = FormatError("bad_\(Kind.type)_key", "not a v1 \(Kind.type) key document")
        let w: KeyDocumentWire
        do { w = try StrictJSON.decode(KeyDocumentWire.self, from: data) } catch { throw bad }
        guard w.v == version, w.type == Kind.type, let id = KeyID(w.key_id), let pk = StrictBase64.decode(w.public_key), pk.count == 32 else {
            throw bad
        }
        return Self(keyID: id, publicKey: Array(pk), fingerprint: w.fingerprint)
    }
}

struct KeyDocumentWire: Codable {
    var v: Int
    var type: String
    var key_id: String
    var public_key: String
    var fingerprint: String

    init(v: Int, type: String, key_id: String, public_key: String, fingerprint: String) {
        (self.v, self.type, self.key_id, self.public_key, self.fingerprint) = (v, type, key_id, public_key, fingerprint)
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        try c.rejectUnknown(allowed: ["v", "type", "key_id", "public_key", "fingerprint"])
        v = try c.require(Int.self, "v")
        type = try c.require(String.self, "type")
        key_id = try c.require(String.self, "key_id")
        public_key = try c.require(String.self, "public_key")
        fingerprint = try c.require(String.self, "fingerprint")
    }
}
