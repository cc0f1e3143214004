/// A key id: lowercase hex of the first 8 bytes of BLAKE2b-256(public key) (SECURITY.md §2.1).
///
/// TipCore only checks the shape; TipCrypto computes it from a key.
public struct KeyID: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public static let hexLength = 16
    public let hex: String

    public init?(_ hex: String) {
        guard Hex.isLowercaseHex(hex, length: Self.hexLength) else { return nil }
        self.hex = hex
    }

    public var description: String { hex }

    public static func < (lhs: KeyID, rhs: KeyID) -> Bool { lhs.hex < rhs.hex }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let id = KeyID(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad key id"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}

/// A tip id: 128 random bits as 32 lowercase hex digits (SECURITY.md §4.2). Random, so an id
/// reveals neither volume nor order, and never repeats across reinstalls.
public struct TipID: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public static let hexLength = 32
    public let hex: String

    public init?(_ hex: String) {
        guard Hex.isLowercaseHex(hex, length: Self.hexLength) else { return nil }
        self.hex = hex
    }

    public var description: String { hex }

    public static func < (lhs: TipID, rhs: TipID) -> Bool { lhs.hex < rhs.hex }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let id = TipID(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad tip id"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}

public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    public static func isLowercaseHex(_ s: String, length: Int) -> Bool {
        let u = s.utf8
        return u.count == length && u.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }
}
