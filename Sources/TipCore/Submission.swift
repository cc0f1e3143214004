import Foundation

/// Whether a server takes tips for a key (SECURITY.md §2.5): active and retiring keys are
/// accepted; a retired (or not yet valid) key is refused as retired; any other is unknown.
public enum KeyAcceptance: Sendable, Equatable {
    case accepted, retired, unknown
}

/// The submission envelope a witness posts to `/api/v1/tips` (SECURITY.md §3.4).
public struct Submission: Equatable, Sendable {
    public static let version = 1
    public let keyID: KeyID
    public let sealed: [UInt8]
    /// The proof of work, when the server asks for one (SECURITY.md §4.6).
    public var pow: ProofOfWork.Solution?

    public init(keyID: KeyID, sealed: [UInt8], pow: ProofOfWork.Solution? = nil) {
        self.keyID = keyID
        self.sealed = sealed
        self.pow = pow
    }

    public func encoded() -> Data {
        StrictJSON.encode(
            Wire(
                v: Self.version, key_id: keyID.hex, sealed: Data(sealed).base64EncodedString(),
                pow: pow.map { .init(challenge: Data($0.challenge.bytes).base64EncodedString(), nonce: Data($0.nonce).base64EncodedString()) }))
    }

    /// Validates an envelope without any secret (SECURITY.md §3.5). The checks run in the order
    /// the spec lists them, so each bad input has exactly one code.
    ///
    /// - Parameters:
    ///   - isKnownKey: whether the server accepts tips for this key id.
    ///   - maxPadded: the largest padded plaintext accepted.
    public static func validate(
        _ data: Data,
        maxPadded: Int = PaddedSize.defaultMaximum,
        isKnownKey: (KeyID) -> Bool
    ) throws -> Submission {
        try validate(data, maxPadded: maxPadded, acceptance: { isKnownKey($0) ? .accepted : .unknown })
    }

    /// As above, telling a retired key (`key_retired`) from one never listed (`unknown_key`).
    public static func validate(
        _ data: Data,
        maxPadded: Int = PaddedSize.defaultMaximum,
        acceptance: (KeyID) -> KeyAcceptance
    ) throws -> Submission {
        let w = try Wire.plain(data) ?? StrictJSON.decode(Wire.self, from: data)
        guard w.v == version else {
            throw FormatError("unsupported_version", "only submission version 1 is supported")
        }
        guard let id = KeyID(w.key_id) else {
            throw FormatError("invalid_key_id", "key_id must be 16 lowercase hex digits")
        }
        switch acceptance(id) {
        case .accepted: break
        case .unknown:
            throw FormatError("unknown_key", "this server does not accept tips for that key; fetch /api/v1/key again")
        case .retired:
            throw FormatError("key_retired", "that key is retired; fetch /api/v1/key again")
        }
        guard let sealed = StrictBase64.bytes(w.sealed) else {
            throw FormatError("invalid_base64", "sealed must be standard base64 with padding")
        }
        guard PaddedSize.isValid(sealed.count - PaddedSize.sealOverhead, maximum: maxPadded) else {
            throw FormatError(
                "invalid_sealed_length",
                "sealed must be 48 bytes plus a padded size: a power of two from 1024 to \(maxPadded)"
            )
        }
        var pow: ProofOfWork.Solution?
        if let p = w.pow {
            guard let c = StrictBase64.decode(p.challenge).flatMap({ ProofOfWork.Challenge(Array($0)) }),
                let n = StrictBase64.decode(p.nonce), (1...ProofOfWork.maxNonceLength).contains(n.count)
            else { throw FormatError("pow_invalid", "pow must hold a 49-byte challenge and a 1 to 32-byte nonce, in base64") }
            pow = ProofOfWork.Solution(challenge: c, nonce: Array(n))
        }
        return Submission(keyID: id, sealed: sealed, pow: pow)
    }

    struct Wire: Codable, Equatable {
        struct Pow: Codable, Equatable {
            var challenge: String
            var nonce: String
            init(challenge: String, nonce: String) { (self.challenge, self.nonce) = (challenge, nonce) }
            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: AnyKey.self)
                try c.rejectUnknown(allowed: ["challenge", "nonce"])
                (challenge, nonce) = (try c.require(String.self, "challenge"), try c.require(String.self, "nonce"))
            }
        }

        var v: Int
        var key_id: String
        var sealed: String
        var pow: Pow?

        init(v: Int, key_id: String, sealed: String, pow: Pow?) {
            self.v = v
            self.key_id = key_id
            self.sealed = sealed
            self.pow = pow
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["v", "key_id", "sealed", "pow"])
            v = try c.require(Int.self, "v")
            key_id = try c.require(String.self, "key_id")
            sealed = try c.require(String.self, "sealed")
            pow = try c.optional(Pow.self, "pow")
        }
    }
}

extension Submission.Wire {
    /// The envelope without `JSONDecoder`, when it is in the plain form every sealer of ours
    /// sends (the page's script, `tipdesk seal`, the README's sealer): exactly the members `v`,
    /// `key_id` and `sealed`, each once and in any order, no whitespace, `v` the number 1, and
    /// strings of printable ASCII without escapes. Anything else is nil and goes through
    /// `StrictJSON`, so no input changes outcome or error; whatever this reads, `StrictJSON`
    /// reads the same (FastPathTests: our sealers' forms, and every envelope one byte away from
    /// one). JSONDecoder was a fifth of a submission's request handling (issue 9's profile).
    static func plain(_ data: Data) -> Self? {
        data.withUnsafeBytes { (b: UnsafeRawBufferPointer) -> Self? in
            var r = PlainReader(b)
            // A string of printable ASCII other than '"' and '\\', after its opening quote.
            func string() -> String? {
                let start = r.at
                while r.at < b.count, b[r.at] != 0x22 {
                    guard (0x20...0x7e).contains(b[r.at]), b[r.at] != 0x5c else { return nil }
                    r.at += 1
                }
                guard r.at < b.count else { return nil }
                defer { r.at += 1 }
                return String(decoding: UnsafeRawBufferPointer(rebasing: b[start..<r.at]), as: UTF8.self)
            }
            var v: Int?
            var keyID: String?
            var sealed: String?
            guard r.take(0x7b) else { return nil }  // {
            for i in 0..<3 {
                guard i == 0 || r.take(0x2c), r.take(0x22), let name = string(), r.take(0x3a) else { return nil }
                switch name {
                case "v" where v == nil:
                    guard r.take(0x31) else { return nil }  // the number 1, and only that
                    v = 1
                case "key_id" where keyID == nil:
                    guard r.take(0x22), let s = string() else { return nil }
                    keyID = s
                case "sealed" where sealed == nil:
                    guard r.take(0x22), let s = string() else { return nil }
                    sealed = s
                default: return nil
                }
            }
            guard r.take(0x7d), r.atEnd, let v, let keyID, let sealed else { return nil }
            return Self(v: v, key_id: keyID, sealed: sealed, pow: nil)
        }
    }
}
