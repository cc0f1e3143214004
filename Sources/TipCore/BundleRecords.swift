import Foundation

/// The record lines of a bundle (SECURITY.md §5), read without Foundation's JSON decoder and
/// base64 re-encoding: issue 9's import profile had the bundle's decode at 17% of an import,
/// serial, in `Data.split`, `JSONDecoder` per line and base64 decoded and then encoded again to
/// check it was canonical.
///
/// Only a line in the form the exporter writes (sorted keys, no whitespace, no escapes, every
/// value printable ASCII) takes the fast path, and JSON reads such a line exactly as the fast
/// path does. Any other line goes through `StrictJSON` as before, so what is accepted and
/// refused, and with which error, does not change.
extension ExportBundle {
    /// One record line: the tip, or nil if the line is not a valid record (§1, §4.2). The order
    /// and size class checks are the caller's.
    static func record(_ line: UnsafeRawBufferPointer) -> SealedTip? {
        if let fields = canonicalRecordFields(line) {
            guard let id = TipID(string(line, fields.id)), let kid = KeyID(string(line, fields.keyID)),
                let day = Day(string(line, fields.day)),
                let sealed = CanonicalBase64.decode(UnsafeRawBufferPointer(rebasing: line[fields.sealed]))
            else { return nil }
            return SealedTip(id: id, keyID: kid, day: day, sealed: sealed)
        }
        guard let r = try? StrictJSON.decode(RecordWire.self, from: Data(line)),
            let id = TipID(r.id), let kid = KeyID(r.key_id), let day = Day(r.day),
            let sealed = StrictBase64.decode(r.sealed)
        else { return nil }
        return SealedTip(id: id, keyID: kid, day: day, sealed: Array(sealed))
    }

    private static func string(_ line: UnsafeRawBufferPointer, _ r: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: line[r]), as: UTF8.self)
    }

    /// The value ranges of `{"day":"…","id":"…","key_id":"…","sealed":"…"}` exactly, or nil.
    static func canonicalRecordFields(_ line: UnsafeRawBufferPointer) -> (day: Range<Int>, id: Range<Int>, keyID: Range<Int>, sealed: Range<Int>)? {
        var at = 0
        func literal(_ s: StaticString) -> Bool {
            let n = s.utf8CodeUnitCount
            guard line.count - at >= n, memcmp(line.baseAddress! + at, s.utf8Start, n) == 0 else { return false }
            at += n
            return true
        }
        // A value up to the next quote, of bytes that JSON takes as themselves.
        func value() -> Range<Int>? {
            let start = at
            while at < line.count {
                let b = line[at]
                if b == 0x22 { return start..<at }
                guard b >= 0x20 && b < 0x7f && b != 0x5c else { return nil }
                at += 1
            }
            return nil
        }
        guard line.count > 0, literal(#"{"day":""#), let day = value(), literal(#"","id":""#), let id = value(),
            literal(#"","key_id":""#), let keyID = value(), literal(#"","sealed":""#), let sealed = value(),
            literal(#""}"#), at == line.count
        else { return nil }
        return (day, id, keyID, sealed)
    }
}

/// Standard base64 with padding, canonical (SECURITY.md §1): what `StrictBase64.decode` accepts,
/// decoded from bytes, checking canonicity by the rules instead of by encoding again. A text
/// is canonical exactly when its length is a multiple of 4, every symbol is in the alphabet
/// but one or two final `=`, and the bits of the last symbol that carry no byte are zero.
enum CanonicalBase64 {
    /// Symbol values; 0xFF for every other byte, `=` included.
    private static let values: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    struct Invalid: Error {}

    static func decode(_ s: UnsafeRawBufferPointer) -> [UInt8]? {
        let n = s.count
        if n == 0 { return [] }
        guard n % 4 == 0 else { return nil }
        let pad = s[n - 1] != 0x3d ? 0 : s[n - 2] != 0x3d ? 1 : 2
        let length = n / 4 * 3 - pad
        return values.withUnsafeBufferPointer { v in
            try? [UInt8](unsafeUninitializedCapacity: length) { out, count in
                var i = 0
                var o = 0
                while i < n - 4 {
                    let a = v[Int(s[i])]
                    let b = v[Int(s[i + 1])]
                    let c = v[Int(s[i + 2])]
                    let d = v[Int(s[i + 3])]
                    guard (a | b | c | d) & 0x80 == 0 else { throw Invalid() }
                    out[o] = a << 2 | b >> 4
                    out[o + 1] = b << 4 | c >> 2
                    out[o + 2] = c << 6 | d
                    i += 4
                    o += 3
                }
                let a = v[Int(s[i])]
                let b = v[Int(s[i + 1])]
                guard (a | b) & 0x80 == 0 else { throw Invalid() }
                out[o] = a << 2 | b >> 4
                switch pad {
                case 0:
                    let c = v[Int(s[i + 2])]
                    let d = v[Int(s[i + 3])]
                    guard (c | d) & 0x80 == 0 else { throw Invalid() }
                    out[o + 1] = b << 4 | c >> 2
                    out[o + 2] = c << 6 | d
                case 1:
                    let c = v[Int(s[i + 2])]
                    guard c & 0x80 == 0, c & 0x03 == 0 else { throw Invalid() }
                    out[o + 1] = b << 4 | c >> 2
                default:
                    guard b & 0x0F == 0 else { throw Invalid() }
                }
                count = length
            }
        }
    }
}
