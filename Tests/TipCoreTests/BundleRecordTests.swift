import Foundation
import Testing

@testable import TipCore

/// The bundle's fast record reader (`BundleRecords.swift`) must accept and refuse exactly what
/// the JSON decoder and the base64 check by re-encoding did (SECURITY.md §1, §5).
@Suite struct BundleRecordTests {
    func canonical(_ s: String) -> [UInt8]? {
        Array(s.utf8).withUnsafeBytes { CanonicalBase64.decode($0) }
    }

    /// Base64 as `StrictBase64` read it before it shared `CanonicalBase64`: the alphabet checked,
    /// Foundation's decoder, then encoding again to compare.
    static func reference(_ s: String) -> [UInt8]? {
        guard s.utf8.count % 4 == 0,
            s.utf8.allSatisfy({ c in
                (0x41...0x5a).contains(c) || (0x61...0x7a).contains(c) || (0x30...0x39).contains(c) || c == 0x2b || c == 0x2f || c == 0x3d
            }), let d = Data(base64Encoded: s), d.base64EncodedString() == s
        else { return nil }
        return Array(d)
    }

    func same(_ s: String) -> Bool { canonical(s) == Self.reference(s) }

    @Test func base64AsTheReference() {
        for s in ["", "AAAA", "AA==", "AB==", "AAA=", "AAB=", "AA", "AA=\n", "AA AA", "-_==", "====", "A===", "AA=A", "=AAA", "AAAA===="] {
            #expect(same(s), "\(s)")
        }
        #expect(canonical("AB==") == nil && canonical("AAB=") == nil, "stray bits")
        // Every canonical encoding, and every change of its last two symbols.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=".utf8)
        for n in 0..<40 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255) }
            let text = Data(bytes).base64EncodedString()
            #expect(canonical(text) == bytes)
            var u = Array(text.utf8)
            for i in Swift.max(0, u.count - 2)..<u.count {
                let kept = u[i]
                for c in alphabet + [0x20, 0x0a, 0x2d, 0x5f, 0x80] {
                    u[i] = c
                    let s = String(decoding: u, as: UTF8.self)
                    #expect(same(s), "\(s)")
                }
                u[i] = kept
            }
        }
        // Short random texts over the alphabet and padding.
        for _ in 0..<50_000 {
            let s = String(decoding: (0..<Int.random(in: 0...12)).map { _ in alphabet.randomElement()! }, as: UTF8.self)
            #expect(same(s), "\(s)")
        }
    }

    /// The reading before the fast path: JSON, then each member's own check.
    func slow(_ line: String) -> SealedTip? {
        guard let r = try? StrictJSON.decode(ExportBundle.RecordWire.self, from: Data(line.utf8)),
            let id = TipID(r.id), let kid = KeyID(r.key_id), let day = Day(r.day), let sealed = Self.reference(r.sealed)
        else { return nil }
        return SealedTip(id: id, keyID: kid, day: day, sealed: sealed)
    }

    func fast(_ line: String) -> SealedTip? { Array(line.utf8).withUnsafeBytes { ExportBundle.record($0) } }

    @Test func recordLinesAsJSON() {
        let id = String(repeating: "0a", count: 16)
        let kid = "0123456789abcdef"
        let sealed = "AAECAw=="
        func line(day: String = "2026-11-29", id: String = id, kid: String = kid, sealed: String = sealed) -> String {
            #"{"day":"\#(day)","id":"\#(id)","key_id":"\#(kid)","sealed":"\#(sealed)"}"#
        }
        let good = line()
        #expect(fast(good) == SealedTip(id: TipID(id)!, keyID: KeyID(kid)!, day: Day("2026-11-29")!, sealed: [0, 1, 2, 3]))
        #expect(Array(good.utf8).withUnsafeBytes { ExportBundle.canonicalRecordFields($0) } != nil, "the exporter's form is the fast path")
        let lines = [
            good,
            line(sealed: "AA\\/A"),  // a JSON escape: valid, read by the decoder
            line(sealed: "AAEC\\u0041w=="), line(sealed: "AA\\\""), line(sealed: "AAEC\tw=="), line(sealed: "AAECé="), line(sealed: "AAEC\u{7f}w=="),
            line(sealed: "AAECAw"), line(sealed: "AAECAx=="), line(sealed: "AAEC Aw=="), line(sealed: "AAEC-w=="), line(sealed: ""),
            line(id: id.uppercased()), line(id: String(id.dropLast())), line(id: id + "0"), line(kid: "0123456789ABCDEF"),
            line(day: "2026-02-30"), line(day: "2026-11-29T00:00"), line(day: "2026-11-2\\u0039"),
            line(day: "2026-11-29\u{7f}"), line(day: "2026-11-29é"), line(day: "2026-11-29\t"),
            #"{"id":"\#(id)","day":"2026-11-29","key_id":"\#(kid)","sealed":"\#(sealed)"}"#,  // member order
            #"{ "day":"2026-11-29","id":"\#(id)","key_id":"\#(kid)","sealed":"\#(sealed)"}"#,
            #"{"day":"2026-11-29","id":"\#(id)","key_id":"\#(kid)","sealed":"\#(sealed)"} "#,
            #"{"day":"2026-11-29","id":"\#(id)","key_id":"\#(kid)","sealed":"\#(sealed)","ip":"x"}"#,
            #"{"day":"2026-11-29","id":"\#(id)","key_id":"\#(kid)"}"#,
            #"{"day":"2026-11-29","id":"\#(id)","key_id":"\#(kid)","sealed":1}"#,
            #"{"day":"2026-11-29","id":"\#(id)","key_id":"\#(kid)","sealed":"\#(sealed)"}}"#,
            #"{"day":"2026-11-29","id":"\#(id)","key_id":"\#(kid)","sealed":"\#(sealed)"#,
            "", "{}", "[]", "null",
        ]
        for l in lines {
            #expect(fast(l) == slow(l), "\(l)")
        }
        #expect(fast(line(sealed: "AA\\/A")) != nil)
        #expect(fast(line(sealed: "AAEC\\u0041w==")) == fast(line(sealed: "AAECAw==")))
        #expect(fast(line(sealed: "AAECAx==")) == nil)
    }

    @Test func linesAreSplitOnEveryLF() {
        let text = Array("h\n\nr1\nr2\n".utf8)
        let ranges = text.withUnsafeBytes { ExportBundle.lines($0) }
        #expect(ranges == [0..<1, 2..<2, 3..<5, 6..<8])
    }
}
