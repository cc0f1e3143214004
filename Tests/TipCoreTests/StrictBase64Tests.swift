import Foundation
import Testing

@testable import TipCore

/// `StrictBase64` (SECURITY.md §1) against a reference built from Foundation the slow way: the
/// alphabet and padding checked byte by byte, Foundation's decoder, then encoding again and
/// comparing, which is what `StrictBase64` did before it shared `CanonicalBase64` (issue 9).
@Suite struct StrictBase64Tests {
    static func reference(_ s: String) -> Data? {
        guard s.utf8.count % 4 == 0 else { return nil }
        for c in s.utf8 {
            switch c {
            case 0x41...0x5a, 0x61...0x7a, 0x30...0x39, 0x2b, 0x2f, 0x3d: continue
            default: return nil
            }
        }
        guard let d = Data(base64Encoded: s), d.base64EncodedString() == s else { return nil }
        return d
    }

    @Test func fixedCases() {
        for s in ["", "AAAA", "AA==", "AAA=", "AB==", "AAB=", "AA", "AA=\n", "AA AA", "-_==", "====", "A===", "AA=A", "=AAA", "AAAA====", "AA==AAAA", "ÀAAA"] {
            #expect(StrictBase64.decode(s) == Self.reference(s), "\(s)")
        }
    }

    // Every length 0..<64, each text changed at each of its last three symbols and its first to
    // every symbol, padding, space, newline, the URL alphabet and a non-ASCII byte.
    @Test func agreesWithTheReferenceOnEveryChange() {
        let symbols = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=".utf8) + [0x20, 0x0a, 0x2d, 0x5f, 0x00]
        for n in 0..<64 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255) }
            let text = Data(bytes).base64EncodedString()
            #expect(StrictBase64.bytes(text) == bytes)
            var u = Array(text.utf8)
            for i in Set([0] + Array(max(0, u.count - 3)..<u.count)) where i < u.count {
                let kept = u[i]
                for c in symbols {
                    u[i] = c
                    let s = String(decoding: u, as: UTF8.self)
                    #expect(StrictBase64.decode(s) == Self.reference(s), "\(s)")
                }
                u[i] = kept
            }
            #expect(StrictBase64.decode(text + "=") == nil && StrictBase64.decode(String(text.dropLast())) == (n == 0 ? Data() : nil))
        }
    }
}
