import Foundation

/// The tip document (SECURITY.md §3.2) in the form our sealers write it, read without
/// `JSONDecoder`: the page (`JSON.stringify`), the server's form path and `tipdesk seal` all
/// write an object with no whitespace, `v` the number 1, and strings whose only escapes are
/// `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r` and `\t`. JSONDecoder was the largest single cost
/// of an import after libsodium (issue 9's profile: 9% of a one-core import).
///
/// Anything else is nil and goes through `StrictJSON`, as are a member or field named twice,
/// `\u` escapes and invalid UTF-8, so no document changes outcome or error: whatever this
/// reads, `StrictJSON` reads the same (FastPathTests: the vectors, the corpus, and every
/// document one byte away from one).
extension TipDocument {
    /// The document, or nil for the strict reader. Throws only `TipDocument`'s own limits,
    /// which the strict reader would throw for the same members.
    static func plain(_ b: UnsafeRawBufferPointer) throws -> TipDocument? {
        var r = PlainReader(b)
        // A string's value, after its opening quote; nil for anything JSON would read
        // differently from a plain copy with the simple escapes undone, or would refuse.
        func string() -> String? {
            var out = [UInt8]()
            var start = r.at
            while r.at < b.count {
                let c = b[r.at]
                if c == 0x22 {
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[start..<r.at]))
                    r.at += 1
                    return String(validating: out, as: UTF8.self)
                }
                if c < 0x20 { return nil }
                if c == 0x5c {
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[start..<r.at]))
                    guard r.at + 1 < b.count else { return nil }
                    switch b[r.at + 1] {
                    case 0x22, 0x5c, 0x2f: out.append(b[r.at + 1])  // \" \\ \/
                    case 0x62: out.append(0x08)  // \b
                    case 0x66: out.append(0x0c)  // \f
                    case 0x6e: out.append(0x0a)  // \n
                    case 0x72: out.append(0x0d)  // \r
                    case 0x74: out.append(0x09)  // \t
                    default: return nil  // \u, and anything JSON refuses
                    }
                    r.at += 2
                    start = r.at
                    continue
                }
                r.at += 1
            }
            return nil
        }
        func quoted() -> String? { r.take(0x22) ? string() : nil }

        var v = false
        var body: String?
        var fields: [String: String]?
        var lang: String?
        guard r.take(0x7b) else { return nil }  // {
        var first = true
        while !r.take(0x7d) {  // }
            guard first || r.take(0x2c), let name = quoted(), r.take(0x3a) else { return nil }
            first = false
            switch name {
            case "v" where !v:
                guard r.take(0x31), r.at < b.count, b[r.at] == 0x2c || b[r.at] == 0x7d else { return nil }  // 1, and only that
                v = true
            case "body" where body == nil:
                guard let s = quoted() else { return nil }
                body = s
            case "lang" where lang == nil:
                guard let s = quoted() else { return nil }
                lang = s
            case "fields" where fields == nil:
                guard r.take(0x7b) else { return nil }
                var f = [String: String]()
                var firstField = true
                while !r.take(0x7d) {
                    guard firstField || r.take(0x2c), let k = quoted(), r.take(0x3a), let value = quoted() else { return nil }
                    firstField = false
                    // Named twice (as Swift strings compare, as the strict reader's keys do):
                    // the strict reader refuses it with its own error.
                    guard f.updateValue(value, forKey: k) == nil else { return nil }
                }
                fields = f
            default:
                return nil
            }
        }
        guard r.atEnd, v, let body else { return nil }
        return try TipDocument(body: body, fields: fields ?? [:], lang: lang)
    }
}
