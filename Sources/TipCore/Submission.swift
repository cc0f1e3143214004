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

    public init(keyID: KeyID, sealed: [UInt8]) {
        self.keyID = keyID
        self.sealed = sealed
    }

    public func encoded() -> Data {
        StrictJSON.encode(Wire(v: Self.version, key_id: keyID.hex, sealed: Data(sealed).base64EncodedString()))
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
        guard let sealed = StrictBase64.decode(w.sealed) else {
            throw FormatError("invalid_base64", "sealed must be standard base64 with padding")
        }
        guard PaddedSize.isValid(sealed.count - PaddedSize.sealOverhead, maximum: maxPadded) else {
            throw FormatError(
                "invalid_sealed_length",
                "sealed must be 48 bytes plus a padded size: a power of two from 1024 to \(maxPadded)"
            )
        }
        return Submission(keyID: id, sealed: Array(sealed))
    }

    struct Wire: Codable {
        var v: Int
        var key_id: String
        var sealed: String

        init(v: Int, key_id: String, sealed: String) {
            self.v = v
            self.key_id = key_id
            self.sealed = sealed
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["v", "key_id", "sealed"])
            v = try c.require(Int.self, "v")
            key_id = try c.require(String.self, "key_id")
            sealed = try c.require(String.self, "sealed")
        }
    }
}
