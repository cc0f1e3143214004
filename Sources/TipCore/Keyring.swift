import Foundation

/// One intake key as a keyring lists it (SECURITY.md §2.5).
public struct IntakeKeyEntry: Equatable, Sendable {
    public let keyID: KeyID
    public let publicKey: [UInt8]
    public let notBefore: Day
    public var notAfter: Day?

    public init(keyID: KeyID, publicKey: [UInt8], notBefore: Day, notAfter: Day? = nil) {
        self.keyID = keyID
        self.publicKey = publicKey
        self.notBefore = notBefore
        self.notAfter = notAfter
    }
}

/// A key's status on a day, from the dates alone (SECURITY.md §2.5).
public enum KeyStatus: String, Sendable, CaseIterable {
    case active, retiring, pending, retired
}

/// The signed part of a keyring, v1 (SECURITY.md §2.5). TipCore parses and checks its shape;
/// TipCrypto checks the signature (first) and that each key id derives from its key.
public struct KeyringPayload: Equatable, Sendable {
    public static let version = 1
    public static let maxKeys = 16
    public var serial: Int
    public var issued: Day
    public var expires: Day
    public var rootKeyID: KeyID
    public var intakeKeys: [IntakeKeyEntry]
    public var scripts: [String: String]
    /// The organization's Ed25519 forwarding key, certified by being listed here under the
    /// root's signature (§2.5; used by the forwarding issue, so the air-gapped root is not
    /// needed day to day). Optional.
    public var forwardingKey: ForwardingKeyEntry?

    public struct ForwardingKeyEntry: Equatable, Sendable {
        public let keyID: KeyID
        public let publicKey: [UInt8]
        public init(keyID: KeyID, publicKey: [UInt8]) {
            self.keyID = keyID
            self.publicKey = publicKey
        }
    }

    public init(
        serial: Int, issued: Day, expires: Day, rootKeyID: KeyID, intakeKeys: [IntakeKeyEntry], scripts: [String: String],
        forwardingKey: ForwardingKeyEntry? = nil
    ) {
        self.serial = serial
        self.issued = issued
        self.expires = expires
        self.rootKeyID = rootKeyID
        self.intakeKeys = intakeKeys
        self.scripts = scripts
        self.forwardingKey = forwardingKey
    }

    public func isExpired(on day: Day) -> Bool { day > expires }

    /// The key clients seal to on `day`: of the keys whose window holds `day`, the one that
    /// started last.
    public func current(on day: Day) -> IntakeKeyEntry? {
        intakeKeys.enumerated()
            .filter { $0.element.notBefore <= day && ($0.element.notAfter.map { day <= $0 } ?? true) }
            .max { ($0.element.notBefore, $0.offset) < ($1.element.notBefore, $1.offset) }?.element
    }

    /// The status of `keyID` on `day`; nil if this keyring does not list it.
    public func status(of keyID: KeyID, on day: Day) -> KeyStatus? {
        guard let k = intakeKeys.first(where: { $0.keyID == keyID }) else { return nil }
        if day < k.notBefore { return .pending }
        if let end = k.notAfter, day > end { return .retired }
        return current(on: day)?.keyID == keyID ? .active : .retiring
    }

    public func encoded() -> Data {
        StrictJSON.encode(
            Wire(
                v: Self.version, serial: serial, issued: issued.text, expires: expires.text, root_key_id: rootKeyID.hex,
                intake_keys: intakeKeys.map {
                    .init(
                        key_id: $0.keyID.hex, public_key: Data($0.publicKey).base64EncodedString(), not_before: $0.notBefore.text,
                        not_after: $0.notAfter?.text)
                }, scripts: scripts,
                forwarding_key: forwardingKey.map { .init(key_id: $0.keyID.hex, public_key: Data($0.publicKey).base64EncodedString()) }))
    }

    public static func decode(_ data: Data) throws -> KeyringPayload {
        let bad = { (why: String) in FormatError("bad_keyring", why) }
        let w: Wire
        do { w = try StrictJSON.decode(Wire.self, from: data) } catch { throw bad("the keyring payload is not a v1 keyring") }
        guard w.v == version else { throw FormatError("unsupported_version", "keyring version \(w.v) is not supported") }
        guard w.serial > 0 else { throw bad("serial must be positive") }
        guard let issued = Day(w.issued), let expires = Day(w.expires), issued <= expires else {
            throw bad("issued and expires must be days with issued ≤ expires")
        }
        guard let root = KeyID(w.root_key_id) else { throw bad("root_key_id is not a key id") }
        guard (1...maxKeys).contains(w.intake_keys.count) else { throw bad("a keyring lists 1 to \(maxKeys) intake keys") }
        var keys = [IntakeKeyEntry]()
        for e in w.intake_keys {
            guard let id = KeyID(e.key_id), let pk = StrictBase64.decode(e.public_key), pk.count == 32,
                let nb = Day(e.not_before)
            else { throw bad("an intake key entry is not valid") }
            let na = try e.not_after.map { s -> Day in
                guard let d = Day(s), d >= nb else { throw bad("not_after must be a day on or after not_before") }
                return d
            }
            guard !keys.contains(where: { $0.keyID == id }) else { throw bad("a key id is listed twice") }
            keys.append(IntakeKeyEntry(keyID: id, publicKey: Array(pk), notBefore: nb, notAfter: na))
        }
        let forwarding = try w.forwarding_key.map { f -> ForwardingKeyEntry in
            guard let id = KeyID(f.key_id), let pk = StrictBase64.decode(f.public_key), pk.count == 32 else {
                throw bad("the forwarding key entry is not valid")
            }
            return ForwardingKeyEntry(keyID: id, publicKey: Array(pk))
        }
        return KeyringPayload(
            serial: w.serial, issued: issued, expires: expires, rootKeyID: root, intakeKeys: keys, scripts: w.scripts, forwardingKey: forwarding)
    }

    struct Wire: Codable {
        struct Key: Codable {
            var key_id: String
            var public_key: String
            var not_before: String
            var not_after: String?

            init(key_id: String, public_key: String, not_before: String, not_after: String?) {
                (self.key_id, self.public_key, self.not_before, self.not_after) = (key_id, public_key, not_before, not_after)
            }

            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: AnyKey.self)
                try c.rejectUnknown(allowed: ["key_id", "public_key", "not_before", "not_after"])
                key_id = try c.require(String.self, "key_id")
                public_key = try c.require(String.self, "public_key")
                not_before = try c.require(String.self, "not_before")
                not_after = try c.optional(String.self, "not_after")
            }
        }

        var v: Int
        var serial: Int
        var issued: String
        var expires: String
        var root_key_id: String
        var intake_keys: [Key]
        var scripts: [String: String]
        var forwarding_key: Forwarding?

        struct Forwarding: Codable {
            var key_id: String
            var public_key: String
            init(key_id: String, public_key: String) { (self.key_id, self.public_key) = (key_id, public_key) }
            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: AnyKey.self)
                try c.rejectUnknown(allowed: ["key_id", "public_key"])
                (key_id, public_key) = (try c.require(String.self, "key_id"), try c.require(String.self, "public_key"))
            }
        }

        init(
            v: Int, serial: Int, issued: String, expires: String, root_key_id: String, intake_keys: [Key], scripts: [String: String],
            forwarding_key: Forwarding?
        ) {
            (self.v, self.serial, self.issued, self.expires) = (v, serial, issued, expires)
            (self.root_key_id, self.intake_keys, self.scripts, self.forwarding_key) = (root_key_id, intake_keys, scripts, forwarding_key)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["v", "serial", "issued", "expires", "root_key_id", "intake_keys", "scripts", "forwarding_key"])
            v = try c.require(Int.self, "v")
            serial = try c.require(Int.self, "serial")
            issued = try c.require(String.self, "issued")
            expires = try c.require(String.self, "expires")
            root_key_id = try c.require(String.self, "root_key_id")
            intake_keys = try c.require([Key].self, "intake_keys")
            scripts = try c.require([String: String].self, "scripts")
            forwarding_key = try c.optional(Forwarding.self, "forwarding_key")
        }
    }
}

/// A document signed by the root: the payload's exact bytes, the signing root's public key and
/// a detached signature over a context string, a zero byte and the payload (SECURITY.md §2.5).
/// The keyring and the acknowledgement (§5.2) use it with their own context strings, so a
/// signature made for one can never pass as the other. Parsing the wrapper trusts nothing
/// inside the payload.
public typealias SignedKeyring = SignedDocument

public struct SignedDocument: Equatable, Sendable {
    public static let version = 1
    /// The keyring's context (§2.5).
    public static let context = "tipgate-keyring-v1"
    /// The acknowledgement's context (§5.2).
    public static let ackContext = "tipgate-ack-v1"
    public let payload: Data
    public let rootPublicKey: [UInt8]
    public let signature: [UInt8]

    public init(payload: Data, rootPublicKey: [UInt8], signature: [UInt8]) {
        self.payload = payload
        self.rootPublicKey = rootPublicKey
        self.signature = signature
    }

    /// The exact bytes a keyring signature covers.
    public static func signedMessage(_ payload: Data) -> Data { message(context, payload) }

    /// context ‖ 0x00 ‖ payload.
    public static func message(_ context: String, _ payload: Data) -> Data { Data(context.utf8) + Data([0]) + payload }

    public func encoded() -> Data {
        var d = StrictJSON.encode(
            Wire(
                v: Self.version, payload: payload.base64EncodedString(), root_public_key: Data(rootPublicKey).base64EncodedString(),
                signature: Data(signature).base64EncodedString()))
        d.append(0x0a)
        return d
    }

    public static func decode(_ data: Data, kind: String = "keyring") throws -> SignedDocument {
        let bad = FormatError("bad_\(kind)", "not a v1 signed \(kind) file (it may be truncated)")
        let w: Wire
        do { w = try StrictJSON.decode(Wire.self, from: data) } catch { throw bad }
        guard w.v == version else { throw FormatError("unsupported_version", "\(kind) file version \(w.v) is not supported") }
        guard let p = StrictBase64.decode(w.payload), let rk = StrictBase64.decode(w.root_public_key), rk.count == 32,
            let sig = StrictBase64.decode(w.signature), sig.count == 64
        else { throw bad }
        return SignedDocument(payload: p, rootPublicKey: Array(rk), signature: Array(sig))
    }

    struct Wire: Codable {
        var v: Int
        var payload: String
        var root_public_key: String
        var signature: String

        init(v: Int, payload: String, root_public_key: String, signature: String) {
            (self.v, self.payload, self.root_public_key, self.signature) = (v, payload, root_public_key, signature)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["v", "payload", "root_public_key", "signature"])
            v = try c.require(Int.self, "v")
            payload = try c.require(String.self, "payload")
            root_public_key = try c.require(String.self, "root_public_key")
            signature = try c.require(String.self, "signature")
        }
    }
}
