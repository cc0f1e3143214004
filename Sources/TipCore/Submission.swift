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
        let w = try StrictJSON.decode(Wire.self, from: data)
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

    struct Wire: Codable {
        struct Pow: Codable {
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
