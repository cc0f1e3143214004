import Foundation
import Testing

@testable import TipCore

/// Intake's fast paths (issue 9) against the slow ways they replaced: whatever the envelope's
/// plain reader takes, `StrictJSON` takes the same; every form our sealers send is taken; and
/// the UTC day from arithmetic is `Calendar`'s, day by day.
@Suite struct FastPathTests {
    static let key = "0123456789abcdef"
    static let sealed = Data((0..<1072).map { UInt8($0 & 0xff) }).base64EncodedString()

    static func strict(_ s: String) -> Submission.Wire? { try? StrictJSON.decode(Submission.Wire.self, from: Data(s.utf8)) }

    @Test func everyFormOurSealersSendIsReadPlainly() {
        for s in [
            #"{"v":1,"key_id":"\#(Self.key)","sealed":"\#(Self.sealed)"}"#,  // the page, the README's sealer
            #"{"key_id":"\#(Self.key)","sealed":"\#(Self.sealed)","v":1}"#,  // tipdesk seal (sorted keys)
            #"{"sealed":"\#(Self.sealed)","v":1,"key_id":"\#(Self.key)"}"#,
        ] {
            let plain = Submission.Wire.plain(Data(s.utf8))
            #expect(plain != nil && plain == Self.strict(s), "\(s.prefix(40))")
        }
        let tipdesk = String(decoding: Submission(keyID: KeyID(Self.key)!, sealed: Array(Data(base64Encoded: Self.sealed)!)).encoded(), as: UTF8.self)
        #expect(Submission.Wire.plain(Data(tipdesk.utf8)) == Self.strict(tipdesk))
    }

    @Test func anythingElseGoesToStrictJSON() {
        let k = Self.key
        let b = "QUJD"
        for s in [
            #"{"v":1,"key_id":"\#(k)","sealed":"\#(b)","pow":{"challenge":"QUJD","nonce":"QQ=="}}"#,
            #"{ "v":1,"key_id":"\#(k)","sealed":"\#(b)"}"#, #"{"v":1,"key_id":"\#(k)","sealed":"\#(b)"} "#,
            #"{"v":1,"key_id":"\#(k)","sealed":"\#(b)","v":1}"#, #"{"v":1,"v":1,"sealed":"\#(b)"}"#,
            #"{"v":2,"key_id":"\#(k)","sealed":"\#(b)"}"#, #"{"v":12,"key_id":"\#(k)","sealed":"\#(b)"}"#,
            #"{"v":1.0,"key_id":"\#(k)","sealed":"\#(b)"}"#, #"{"v":"1","key_id":"\#(k)","sealed":"\#(b)"}"#,
            #"{"v":1,"key_id":"\u0030123456789abcdef","sealed":"\#(b)"}"#, #"{"v":1,"key_id":"\#(k)","sealed":"QU\/D"}"#,
            #"{"v":1,"key_id":"\#(k)"}"#, #"{"v":1,"key_id":"\#(k)","sealed":"\#(b)","x":1}"#, #"{"v":1,"key_id":"é","sealed":"\#(b)"}"#,
            #"{"v":1,"key_id":"\#(k)","sealed":"\#(b)"}x"#, #"{"v":1,"key_id":"\#(k)","sealed":"\#(b)""#, "", "{}", "[]",
            #"{"v":1,"key_id":null,"sealed":"\#(b)"}"#, #"{"v":1,"key_id":"\#(k)","sealed":"a\#tb"}"#,
        ] {
            #expect(Submission.Wire.plain(Data(s.utf8)) == nil, "\(s)")
        }
    }

    /// Every envelope one byte away from a plain one, at every position and to every byte
    /// value that matters to JSON: read plainly, it must be what StrictJSON reads.
    @Test func oneByteAwayAgreesWithStrictJSON() {
        let base = Array(#"{"v":1,"key_id":"\#(Self.key)","sealed":"QUJDRA=="}"#.utf8)
        let bytes: [UInt8] = [
            0x00, 0x09, 0x0a, 0x20, 0x22, 0x2c, 0x2e, 0x30, 0x31, 0x32, 0x3a, 0x41, 0x5c, 0x61, 0x65, 0x76, 0x7b, 0x7d, 0x7f, 0x80, 0xc3, 0xff,
        ]
        var checked = 0
        for i in base.indices {
            for b in bytes where b != base[i] {
                for edit in [0, 1, 2] {  // replace, insert before, delete
                    var m = base
                    switch edit {
                    case 0: m[i] = b
                    case 1: m.insert(b, at: i)
                    default: if b == bytes[0] { m.remove(at: i) } else { continue }
                    }
                    let data = Data(m)
                    if let plain = Submission.Wire.plain(data) {
                        #expect(plain == (try? StrictJSON.decode(Submission.Wire.self, from: data)), "\(String(decoding: m, as: UTF8.self))")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 0)
    }

    @Test func dayIsCalendarsDay() {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        func reference(_ d: Date) -> String {
            let c = cal.dateComponents([.year, .month, .day], from: d)
            return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        }
        // Every day from 1900 to 2200: its first and last second, and a moment in between.
        let first = -2_208_988_800
        let last = 7_258_118_400
        for start in stride(from: first, to: last, by: 86_400) {
            for t in [start, start + 86_399, start + Int.random(in: 1..<86_399)] {
                let d = Date(timeIntervalSince1970: Double(t))
                #expect(Day(d).text == reference(d), "t=\(t)")
            }
        }
        // Before and after the arithmetic's years: Calendar's own (Julian before 1582-10-15).
        for d in [
            Date(timeIntervalSince1970: -0.5), Date(timeIntervalSince1970: -14_830_000_000), Date(timeIntervalSince1970: -12_219_292_800),
            Date(timeIntervalSince1970: -12_219_292_801), Date(timeIntervalSince1970: 253_402_300_800),
        ] {
            #expect(Day(d).text == reference(d), "\(d.timeIntervalSince1970)")
        }
        #expect(Day("1500-03-01")!.adding(days: 0).text == "1500-03-01")
    }
}
