import Foundation
import TipCore

/// The client's side of proof of work (SECURITY.md §4.6): `tipdesk seal --server`, the
/// courier's forward delivery and the tests. The page script does the same in a Web Worker.
public enum ProofOfWorkSolver {
    /// Counts up an 8-byte nonce until the hash has enough leading zero bits. Expected work is
    /// 2^difficulty hashes; `limit` bounds it.
    public static func solve(_ challenge: ProofOfWork.Challenge, sealed: [UInt8], limit: UInt64 = 1 << 32) -> ProofOfWork.Solution? {
        let prefix = ProofOfWork.context + challenge.bytes + SHA512.hash(sealed)
        var message = prefix + [UInt8](repeating: 0, count: 8)
        var n: UInt64 = 0
        while n < limit {
            var x = n
            for i in 0..<8 {
                message[prefix.count + 7 - i] = UInt8(truncatingIfNeeded: x)
                x >>= 8
            }
            if ProofOfWork.leadingZeroBits(SHA512.hash(message)) >= challenge.difficulty {
                return ProofOfWork.Solution(challenge: challenge, nonce: Array(message.suffix(8)))
            }
            n += 1
        }
        return nil
    }
}
