import Foundation

/// The acknowledgement, v1 (SECURITY.md §5.2): which tips the reviewers hold safely, so the
/// server may delete them. Signed by the root as a `SignedDocument` with the ack context.
///
///     {"audit_head":"<64 hex>","day":"YYYY-MM-DD","instance":"<32 hex>",
///      "tips":[{"blake2b":"<64 hex of BLAKE2b-256(sealed)>","id":"<32 hex>"}],"v":1}
///
/// A server deletes exactly the rows whose id AND sealed-bytes hash match, and only if
/// `instance` is its own: an ack from another install, or for bytes the server does not hold,
/// deletes nothing.
public struct AckPayload: Equatable, Sendable {
    public static let version = 1
    public static let maxTips = 1_000_000

    public struct Entry: Equatable, Sendable {
        public let id: TipID
        public let blake2b: String
        public init(id: TipID, blake2b: String) {
            self.id = id
            self.blake2b = blake2b
        }
    }

    public let instance: String
    public let day: Day
    /// The head of the reviewer's audit chain when the ack was made (§5.3), so a truncated
    /// audit log is caught against the last ack.
    public let auditHead: String
    public let tips: [Entry]

    public init(instance: String, day: Day, auditHead: String, tips: [Entry]) {
        self.instance = instance
        self.day = day
        self.auditHead = auditHead
        self.tips = tips
    }

    public func encoded() -> Data {
        StrictJSON.encode(
            Wire(
                v: Self.version, instance: instance, day: day.text, audit_head: auditHead,
                tips: tips.map { .init(id: $0.id.hex, blake2b: $0.blake2b) }))
    }

    public static func decode(_ data: Data) throws -> AckPayload {
        let bad = FormatError("bad_ack", "not a v1 acknowledgement")
        let w: Wire
        do { w = try StrictJSON.decode(Wire.self, from: data) } catch { throw bad }
        guard w.v == version else { throw FormatError("unsupported_version", "ack version \(w.v) is not supported") }
        guard Hex.isLowercaseHex(w.instance, length: 32), let day = Day(w.day), Hex.isLowercaseHex(w.audit_head, length: 64),
            w.tips.count <= maxTips
        else { throw bad }
        var seen = Set<TipID>()
        let tips = try w.tips.map { e -> Entry in
            guard let id = TipID(e.id), Hex.isLowercaseHex(e.blake2b, length: 64), seen.insert(id).inserted else { throw bad }
            return Entry(id: id, blake2b: e.blake2b)
        }
        return AckPayload(instance: w.instance, day: day, auditHead: w.audit_head, tips: tips)
    }

    struct Wire: Codable {
        struct E: Codable {
            var id: String
            var blake2b: String
            init(id: String, blake2b: String) { (self.id, self.blake2b) = (id, blake2b) }
            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: AnyKey.self)
                try c.rejectUnknown(allowed: ["id", "blake2b"])
                (id, blake2b) = (try c.require(String.self, "id"), try c.require(String.self, "blake2b"))
            }
        }
        var v: Int
        var instance: String
        var day: String
        var audit_head: String
        var tips: [E]

        init(v: Int, instance: String, day: String, audit_head: String, tips: [E]) {
            (self.v, self.instance, self.day, self.audit_head, self.tips) = (v, instance, day, audit_head, tips)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["v", "instance", "day", "audit_head", "tips"])
            v = try c.require(Int.self, "v")
            instance = try c.require(String.self, "instance")
            day = try c.require(String.self, "day")
            audit_head = try c.require(String.self, "audit_head")
            tips = try c.require([E].self, "tips")
        }
    }
}

/// Signed admin requests (SECURITY.md §5.1). Every request carries these headers; the
/// signature covers the method, path, timestamp, nonce and a hash of the body, so nothing can
/// be replayed, moved to another route or changed in transit.
public enum AdminRequest {
    public static let context = "tipgate-admin-v1"
    public static let keyHeader = "Tipgate-Key"
    public static let timestampHeader = "Tipgate-Timestamp"
    public static let nonceHeader = "Tipgate-Nonce"
    public static let signatureHeader = "Tipgate-Signature"
    /// How far a request's clock may be from the server's.
    public static let window = 300

    /// The signed bytes: context ‖ 0x00 ‖ METHOD \n PATH \n TIMESTAMP \n NONCE \n hex(SHA-512(body)).
    public static func message(method: String, path: String, timestamp: Int, nonce: String, bodySHA512: [UInt8]) -> Data {
        Data(context.utf8) + Data([0]) + Data("\(method)\n\(path)\n\(timestamp)\n\(nonce)\n\(Hex.encode(bodySHA512))".utf8)
    }
}
