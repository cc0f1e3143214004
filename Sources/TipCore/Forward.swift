import Foundation

/// What one organization shares with a partner about a tip (SECURITY.md §11.2): the body and
/// fields the reviewer chose to share, with redacted phrases already replaced by █, the
/// reviewer's note, category and urgency, the forwarding organization's id (its root key id)
/// and the tip's original day. Nothing in it says what was left out.
public struct ForwardDocument: Equatable, Sendable {
    public static let version = 1
    public static let maxNoteBytes = 8192
    public static let maxLabelBytes = 40

    /// The forwarding organization: the key id of its root (§2.4).
    public var org: KeyID
    /// The day the witness's tip arrived (already coarsened to a day, §4.2).
    public var day: Day
    public var body: String
    public var fields: [String: String]
    public var lang: String?
    public var note: String?
    public var category: String?
    public var urgency: String?

    public init(
        org: KeyID, day: Day, body: String, fields: [String: String] = [:], lang: String? = nil, note: String? = nil,
        category: String? = nil, urgency: String? = nil
    ) throws {
        (self.org, self.day, self.body, self.fields, self.lang) = (org, day, body, fields, lang)
        (self.note, self.category, self.urgency) = (note, category, urgency)
        try validate()
    }

    /// The forwarded tip as a tip document (§3.2): same limits, so a forward stores and
    /// searches like any tip.
    public var tip: TipDocument {
        get throws { try TipDocument(body: body, fields: fields, lang: lang) }
    }

    public func validate() throws {
        do { _ = try tip } catch let e as FormatError { throw FormatError("bad_forward", e.message) }
        if let note, note.utf8.isEmpty || note.utf8.count > Self.maxNoteBytes {
            throw FormatError("bad_forward", "a forward's note is 1 to \(Self.maxNoteBytes) bytes")
        }
        for (name, label) in [("category", category), ("urgency", urgency)] {
            guard let label else { continue }
            let ok =
                (1...Self.maxLabelBytes).contains(label.utf8.count)
                && label.utf8.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2d || $0 == 0x5f }
            guard ok else { throw FormatError("bad_forward", "a forward's \(name) is 1 to \(Self.maxLabelBytes) of a-z, 0-9, - and _") }
        }
    }

    public func encoded() -> Data {
        StrictJSON.encode(
            Wire(
                v: Self.version, org: org.hex, day: day.text, body: body, fields: fields.isEmpty ? nil : fields, lang: lang, note: note,
                category: category, urgency: urgency))
    }

    public static func decode(_ data: Data) throws -> ForwardDocument {
        let w: Wire
        do { w = try StrictJSON.decode(Wire.self, from: data) } catch { throw FormatError("bad_forward", "not a v1 forward document") }
        guard w.v == version else { throw FormatError("unsupported_version", "forward document version \(w.v) is not supported") }
        guard let org = KeyID(w.org), let day = Day(w.day) else { throw FormatError("bad_forward", "org must be a key id and day a day") }
        return try ForwardDocument(
            org: org, day: day, body: w.body, fields: w.fields ?? [:], lang: w.lang, note: w.note, category: w.category, urgency: w.urgency)
    }

    struct Wire: Codable {
        var v: Int
        var org: String
        var day: String
        var body: String
        var fields: [String: String]?
        var lang: String?
        var note: String?
        var category: String?
        var urgency: String?

        init(
            v: Int, org: String, day: String, body: String, fields: [String: String]?, lang: String?, note: String?, category: String?,
            urgency: String?
        ) {
            (self.v, self.org, self.day, self.body, self.fields, self.lang) = (v, org, day, body, fields, lang)
            (self.note, self.category, self.urgency) = (note, category, urgency)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["v", "org", "day", "body", "fields", "lang", "note", "category", "urgency"])
            v = try c.require(Int.self, "v")
            org = try c.require(String.self, "org")
            day = try c.require(String.self, "day")
            body = try c.require(String.self, "body")
            fields = try c.optional([String: String].self, "fields")
            lang = try c.optional(String.self, "lang")
            note = try c.optional(String.self, "note")
            category = try c.optional(String.self, "category")
            urgency = try c.optional(String.self, "urgency")
        }
    }
}

/// The plaintext sealed to a partner (SECURITY.md §11.3): the forward document's exact bytes,
/// the sender's signed keyring (which certifies the forwarding key under the sender's root),
/// the fingerprint of the partner key it is addressed to, a random forward id, and the
/// forwarding key's signature over all of that. TipCore checks the shape; TipCrypto checks
/// the signatures.
public struct SignedForward: Equatable, Sendable {
    public static let version = 1
    public static let type = "tipgate-forward"
    /// The signature's context (§11.3): distinct from the keyring's and the ack's (§2.5, §5.2).
    public static let context = "tipgate-forward-v1"
    public static let forwardIDBytes = 16

    /// BLAKE2b-256 of the recipient's intake public key (§2.1), the key the forward is sealed to.
    public let recipient: [UInt8]
    public let forwardID: [UInt8]
    public let document: Data
    /// A signed keyring file (§2.5) of the sending organization.
    public let keyring: Data
    /// The Ed25519 key that signed: the keyring must certify exactly this key.
    public let signer: [UInt8]
    public let signature: [UInt8]

    public init(recipient: [UInt8], forwardID: [UInt8], document: Data, keyring: Data, signer: [UInt8], signature: [UInt8]) {
        (self.recipient, self.forwardID, self.document) = (recipient, forwardID, document)
        (self.keyring, self.signer, self.signature) = (keyring, signer, signature)
    }

    /// `context ‖ 0x00 ‖ recipient (32) ‖ forward_id (16) ‖ document`: the fixed-length parts
    /// come first, so no two inputs give one message.
    public static func signedMessage(recipient: [UInt8], forwardID: [UInt8], document: Data) -> Data {
        precondition(recipient.count == 32 && forwardID.count == forwardIDBytes, "internal error: forward header sizes")
        return Data(context.utf8) + Data([0]) + Data(recipient) + Data(forwardID) + document
    }

    public var signedMessage: Data { Self.signedMessage(recipient: recipient, forwardID: forwardID, document: document) }

    public var forwardIDHex: String { Hex.encode(forwardID) }

    public func encoded() -> Data {
        StrictJSON.encode(
            Wire(
                v: Self.version, type: Self.type, recipient: Hex.encode(recipient), forward_id: Hex.encode(forwardID),
                document: document.base64EncodedString(), keyring: keyring.base64EncodedString(),
                forwarding_key: Data(signer).base64EncodedString(), signature: Data(signature).base64EncodedString()))
    }

    public static func decode(_ data: Data) throws -> SignedForward {
        let bad = FormatError("bad_forward", "not a v1 signed forward")
        let w: Wire
        do { w = try StrictJSON.decode(Wire.self, from: data) } catch { throw bad }
        guard w.type == type else { throw bad }
        guard w.v == version else { throw FormatError("unsupported_version", "signed forward version \(w.v) is not supported") }
        guard let r = Hex.decode(w.recipient), r.count == 32, Hex.encode(r) == w.recipient,
            let f = Hex.decode(w.forward_id), f.count == forwardIDBytes, Hex.encode(f) == w.forward_id,
            let doc = StrictBase64.decode(w.document), let ring = StrictBase64.decode(w.keyring),
            let signer = StrictBase64.decode(w.forwarding_key), signer.count == 32,
            let sig = StrictBase64.decode(w.signature), sig.count == 64
        else { throw bad }
        return SignedForward(recipient: r, forwardID: f, document: doc, keyring: ring, signer: Array(signer), signature: Array(sig))
    }

    struct Wire: Codable {
        var v: Int
        var type: String
        var recipient: String
        var forward_id: String
        var document: String
        var keyring: String
        var forwarding_key: String
        var signature: String

        init(
            v: Int, type: String, recipient: String, forward_id: String, document: String, keyring: String, forwarding_key: String,
            signature: String
        ) {
            (self.v, self.type, self.recipient, self.forward_id) = (v, type, recipient, forward_id)
            (self.document, self.keyring, self.forwarding_key, self.signature) = (document, keyring, forwarding_key, signature)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["v", "type", "recipient", "forward_id", "document", "keyring", "forwarding_key", "signature"])
            v = try c.require(Int.self, "v")
            type = try c.require(String.self, "type")
            recipient = try c.require(String.self, "recipient")
            forward_id = try c.require(String.self, "forward_id")
            document = try c.require(String.self, "document")
            keyring = try c.require(String.self, "keyring")
            forwarding_key = try c.require(String.self, "forwarding_key")
            signature = try c.require(String.self, "signature")
        }
    }
}

/// What a sealed box holds once unpadded (SECURITY.md §11.3): a witness's tip document, or a
/// signed forward from another organization. A forward is told apart by its `type` member,
/// which no tip document has (tip documents are closed, §3.2).
public enum SealedPlaintext: Equatable, Sendable {
    case tip(TipDocument)
    case forward(SignedForward)

    /// A tip document first: it is nearly every plaintext, and one that decodes cannot be a
    /// forward, since a tip document refuses any member but its own (`type` among them). Only
    /// when it fails is `type` read, so a tip is parsed once, not twice (issue 9's import
    /// profile: 10%), and each input still gets the error it got before.
    public static func decode(_ data: Data) throws -> SealedPlaintext {
        do {
            return .tip(try TipDocument.decode(data))
        } catch {
            guard (try? JSONDecoder().decode(Probe.self, from: data))?.type == SignedForward.type else { throw error }
            return .forward(try SignedForward.decode(data))
        }
    }

    /// Reads only `type`; everything else is checked by the real decoder.
    struct Probe: Decodable {
        var type: String?
    }
}

/// A sealed forward waiting to be carried (SECURITY.md §11.4), one file in an outbox: the
/// envelope to post (key id and sealed bytes, §3.4), and for delivery through the partner's
/// own tipgate, that server's address. For a partner who takes files by hand, `id` and `day`
/// name the tip it becomes in the partner's vault.
public struct ForwardParcel: Equatable, Sendable {
    public static let version = 1
    public static let type = "tipgate-parcel"
    public static let fileExtension = "tipgate-forward"
    public let id: TipID
    public let day: Day
    /// `https://…`: the partner's tipgate. Nil for a file carried by hand.
    public let deliverTo: String?
    public let keyID: KeyID
    public let sealed: [UInt8]

    public init(id: TipID, day: Day, deliverTo: String?, keyID: KeyID, sealed: [UInt8]) {
        (self.id, self.day, self.deliverTo, self.keyID, self.sealed) = (id, day, deliverTo, keyID, sealed)
    }

    public var submission: Submission { Submission(keyID: keyID, sealed: sealed) }

    public func encoded() -> Data {
        var d = StrictJSON.encode(
            Wire(
                v: Self.version, type: Self.type, id: id.hex, day: day.text, deliver_to: deliverTo, key_id: keyID.hex,
                sealed: Data(sealed).base64EncodedString()))
        d.append(0x0a)
        return d
    }

    public static func decode(_ data: Data) throws -> ForwardParcel {
        let bad = FormatError("bad_parcel", "not a v1 forward parcel (it may be truncated)")
        let w: Wire
        do { w = try StrictJSON.decode(Wire.self, from: data) } catch { throw bad }
        guard w.type == type else { throw bad }
        guard w.v == version else { throw FormatError("unsupported_version", "parcel version \(w.v) is not supported") }
        guard let id = TipID(w.id), let day = Day(w.day), let key = KeyID(w.key_id), let sealed = StrictBase64.decode(w.sealed),
            PaddedSize.isValid(sealed.count - PaddedSize.sealOverhead, maximum: PaddedSize.bundleMaximum)
        else { throw bad }
        if let to = w.deliver_to { guard isDeliverTo(to) else { throw bad } }
        return ForwardParcel(id: id, day: day, deliverTo: w.deliver_to, keyID: key, sealed: Array(sealed))
    }

    /// Whether `s` may be a parcel's `deliver_to` (§11.4): `https://`, at most 2048 bytes,
    /// printable ASCII only. The courier prints it and puts it in errors, and a C1 control, a
    /// bidi override or a Unicode space would otherwise pass; a host outside ASCII is written
    /// in its punycode form.
    public static func isDeliverTo(_ s: String) -> Bool {
        s.hasPrefix("https://") && s.utf8.count <= 2048 && s.utf8.allSatisfy { (0x21...0x7e).contains($0) }
    }

    /// True if `data` looks like a parcel rather than a bundle (a bundle is not JSON, §5).
    public static func looksLikeParcel(_ data: Data) -> Bool {
        (try? JSONDecoder().decode(SealedPlaintext.Probe.self, from: data))?.type == type
    }

    struct Wire: Codable {
        var v: Int
        var type: String
        var id: String
        var day: String
        var deliver_to: String?
        var key_id: String
        var sealed: String

        init(v: Int, type: String, id: String, day: String, deliver_to: String?, key_id: String, sealed: String) {
            (self.v, self.type, self.id, self.day, self.deliver_to, self.key_id, self.sealed) = (v, type, id, day, deliver_to, key_id, sealed)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["v", "type", "id", "day", "deliver_to", "key_id", "sealed"])
            v = try c.require(Int.self, "v")
            type = try c.require(String.self, "type")
            id = try c.require(String.self, "id")
            day = try c.require(String.self, "day")
            deliver_to = try c.optional(String.self, "deliver_to")
            key_id = try c.require(String.self, "key_id")
            sealed = try c.require(String.self, "sealed")
        }
    }
}
