/// Builds the v1 tip document from an `application/x-www-form-urlencoded` body, for the
/// no-JavaScript path (SECURITY.md §3.7).
///
/// It works on raw buffers that the caller allocates in locked, zeroed-on-free memory: no Swift
/// `String`, `Array` or `Data` of the witness's text is ever made, because those cannot be
/// reliably wiped. The only values that leave as Swift types are the language code and the
/// error code.
public enum FormDocument {
    /// Structured fields, in the order they are written.
    public static let fieldNames = ["where", "when", "kind", "contact"]
    /// The values the `kind` select may send.
    public static let kinds = ["sexual_exploitation", "forced_labour", "child_at_risk", "officials_involved", "other"]

    /// The output buffer must hold this many bytes: JSON escaping turns one byte into at most
    /// six (`\u00XX`), plus the fixed members.
    public static func outputCapacity(forFormLength n: Int) -> Int { 6 * n + 256 }

    public struct Built: Sendable {
        /// Bytes of the document written at the start of the output buffer.
        public let length: Int
        public let lang: String?
    }

    /// - Parameters:
    ///   - form: the request body.
    ///   - scratch: at least `form.count` bytes, for percent-decoding.
    ///   - output: at least `outputCapacity(forFormLength: form.count)` bytes.
    ///   - languages: the `lang` values accepted.
    public static func build(
        form: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer, output: UnsafeMutableRawBufferPointer,
        languages: Set<String>
    ) throws -> Built {
        precondition(scratch.count >= form.count && output.count >= outputCapacity(forFormLength: form.count))
        let names = ["body", "lang"] + fieldNames
        var spans = [String: Range<Int>]()  // name -> decoded bytes in scratch
        var used = 0
        var start = 0
        while start <= form.count {
            var end = start
            while end < form.count && form[end] != 0x26 { end += 1 }  // '&'
            if end > start {
                var eq = start
                while eq < end && form[eq] != 0x3d { eq += 1 }  // '='
                if let name = names.first(where: { keyMatches(form, start..<eq, $0) }) {
                    guard spans[name] == nil else { throw FormatError("invalid_form", "a form field was sent twice") }
                    let n = try decode(form, (eq < end ? eq + 1 : end)..<end, into: scratch, at: used)
                    spans[name] = used..<(used + n)
                    used += n
                }
            }
            start = end + 1
        }
        func span(_ name: String) -> UnsafeRawBufferPointer? {
            guard let r = spans[name], !r.isEmpty else { return nil }
            return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[r])
        }
        for (_, r) in spans {
            guard isValidUTF8(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[r])) else {
                throw FormatError("invalid_form", "the form is not valid UTF-8")
            }
        }
        guard let body = span("body"), !body.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x09 }) else {
            throw FormatError("empty_body", "the tip body is empty")
        }
        guard body.count <= TipDocument.maxBodyBytes else {
            throw FormatError("body_too_long", "the tip body is over \(TipDocument.maxBodyBytes) bytes")
        }
        var lang: String?
        if let l = span("lang") {
            let code = String(decoding: l, as: UTF8.self)
            guard languages.contains(code) else { throw FormatError("bad_lang", "unsupported language") }
            lang = code
        }
        for name in fieldNames {
            guard let v = span(name) else { continue }
            guard v.count <= TipDocument.maxFieldValueBytes else {
                throw FormatError("bad_field", "field values are at most \(TipDocument.maxFieldValueBytes) bytes")
            }
            if name == "kind" && !kinds.contains(where: { Array($0.utf8).elementsEqual(v) }) {
                throw FormatError("invalid_form", "unknown kind of situation")
            }
        }
        var w = Writer(out: output)
        w.put("{\"v\":1,\"body\":")
        w.string(body)
        let present = fieldNames.filter { span($0) != nil }
        if !present.isEmpty {
            w.put(",\"fields\":{")
            for (i, name) in present.enumerated() {
                w.put(i == 0 ? "\"\(name)\":" : ",\"\(name)\":")
                w.string(span(name)!)
            }
            w.put("}")
        }
        if let lang { w.put(",\"lang\":\"\(lang)\"") }
        w.put("}")
        return Built(length: w.count, lang: lang)
    }

    private static func keyMatches(_ form: UnsafeRawBufferPointer, _ r: Range<Int>, _ name: String) -> Bool {
        let u = Array(name.utf8)
        return r.count == u.count && zip(r, u).allSatisfy { form[$0] == $1 }
    }

    /// Percent-decodes `form[r]` into `out` at `at`, turning `+` into a space and CRLF into LF
    /// (browsers send textarea newlines as CRLF; the JS path sends LF, and both paths must
    /// give the reviewer the same text). Returns the decoded length.
    private static func decode(
        _ form: UnsafeRawBufferPointer, _ r: Range<Int>, into out: UnsafeMutableRawBufferPointer, at: Int
    ) throws -> Int {
        var i = r.lowerBound
        var n = at
        while i < r.upperBound {
            var b = form[i]
            if b == 0x2b {
                b = 0x20
            } else if b == 0x25 {
                guard i + 2 < r.upperBound,
                    let hi = hex(form[i + 1]), let lo = hex(form[i + 2])
                else { throw FormatError("invalid_form", "the form has a bad percent escape") }
                b = hi << 4 | lo
                i += 2
            }
            if b == 0x0a && n > at && out[n - 1] == 0x0d { n -= 1 }
            out[n] = b
            n += 1
            i += 1
        }
        return n - at
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }

    /// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
    static func isValidUTF8(_ b: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i < b.count {
            let c = b[i]
            let need: Int
            var lo: UInt8 = 0x80
            var hi: UInt8 = 0xbf
            switch c {
            case 0x00...0x7f: need = 0
            case 0xc2...0xdf: need = 1
            case 0xe0:
                need = 2
                lo = 0xa0
            case 0xe1...0xec, 0xee, 0xef: need = 2
            case 0xed:
                need = 2
                hi = 0x9f
            case 0xf0:
                need = 3
                lo = 0x90
            case 0xf1...0xf3: need = 3
            case 0xf4:
                need = 3
                hi = 0x8f
            default: return false
            }
            guard i + need < b.count else { return false }
            for k in 0..<need {
                let x = b[i + 1 + k]
                if k == 0 { guard x >= lo && x <= hi else { return false } } else { guard x >= 0x80 && x <= 0xbf else { return false } }
            }
            i += need + 1
        }
        return true
    }

    /// Appends JSON to the output buffer.
    private struct Writer {
        let out: UnsafeMutableRawBufferPointer
        var count = 0

        mutating func byte(_ b: UInt8) {
            out[count] = b
            count += 1
        }

        mutating func put(_ s: StaticString) { s.withUTF8Buffer { for b in $0 { byte(b) } } }
        mutating func put(_ s: String) { for b in s.utf8 { byte(b) } }

        /// A JSON string (RFC 8259 §7): quote, backslash and controls escaped; valid UTF-8
        /// passes through unchanged.
        mutating func string(_ v: UnsafeRawBufferPointer) {
            byte(0x22)
            let digits: StaticString = "0123456789abcdef"
            for b in v {
                switch b {
                case 0x22:
                    byte(0x5c)
                    byte(0x22)
                case 0x5c:
                    byte(0x5c)
                    byte(0x5c)
                case 0x0a:
                    byte(0x5c)
                    byte(0x6e)
                case 0x0d:
                    byte(0x5c)
                    byte(0x72)
                case 0x09:
                    byte(0x5c)
                    byte(0x74)
                case 0x00...0x1f:
                    put("\\u00")
                    digits.withUTF8Buffer { d in
                        byte(d[Int(b >> 4)])
                        byte(d[Int(b & 0xf)])
                    }
                default: byte(b)
                }
            }
            byte(0x22)
        }
    }
}
