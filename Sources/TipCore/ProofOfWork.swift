import Foundation

/// Proof of work on the sealed path, v1 (SECURITY.md §4.6). TipCore holds the formats and the
/// counting; the hashing is SHA-512 from TipCrypto, passed in.
///
/// A challenge is 49 bytes: random(16) ‖ expires(8, big-endian Unix seconds) ‖ difficulty(1) ‖
/// MAC(24), the MAC being BLAKE2b-192 keyed by a server secret that lives in memory only and
/// rotates. A solution is a nonce such that
/// SHA-512("tipgate-pow-v1" ‖ challenge ‖ SHA-512(sealed) ‖ nonce) has at least `difficulty`
/// leading zero bits: it is bound to one payload, and a challenge is spent once.
public enum ProofOfWork {
    public static let context = Array("tipgate-pow-v1".utf8)
    public static let challengeLength = 49
    public static let maxNonceLength = 32

    public struct Challenge: Equatable, Sendable {
        public let bytes: [UInt8]
        public var random: ArraySlice<UInt8> { bytes[0..<16] }
        public var expires: Int { bytes[16..<24].reduce(0) { $0 << 8 | Int($1) } }
        public var difficulty: Int { Int(bytes[24]) }
        public var signed: ArraySlice<UInt8> { bytes[0..<25] }
        public var mac: ArraySlice<UInt8> { bytes[25..<49] }

        public init?(_ bytes: [UInt8]) {
            guard bytes.count == ProofOfWork.challengeLength else { return nil }
            self.bytes = bytes
        }

        public static func unsigned(random: [UInt8], expires: Int, difficulty: Int) -> [UInt8] {
            precondition(random.count == 16 && (0...255).contains(difficulty))
            var b = random
            for shift in stride(from: 56, through: 0, by: -8) { b.append(UInt8(truncatingIfNeeded: expires >> shift)) }
            b.append(UInt8(difficulty))
            return b
        }
    }

    /// The solution member of a submission: `"pow":{"challenge":"<base64>","nonce":"<base64>"}`.
    public struct Solution: Equatable, Sendable {
        public let challenge: Challenge
        public let nonce: [UInt8]

        public init(challenge: Challenge, nonce: [UInt8]) {
            self.challenge = challenge
            self.nonce = nonce
        }
    }

    /// The bytes whose hash must have the leading zeros.
    public static func preimage(challenge: [UInt8], sealedSHA512: [UInt8], nonce: [UInt8]) -> [UInt8] {
        context + challenge + sealedSHA512 + nonce
    }

    public static func leadingZeroBits(_ hash: [UInt8]) -> Int {
        var n = 0
        for b in hash {
            if b == 0 {
                n += 8
                continue
            }
            return n + b.leadingZeroBitCount
        }
        return n
    }
}
