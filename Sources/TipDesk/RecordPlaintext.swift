import Foundation
import TipCore
import TipCrypto

/// The box of a freshly imported record (SECURITY.md §10.2), its JSON written by hand: issue 9's
/// import profile had `JSONEncoder` at 8% of an import, for a document that is three strings
/// and a map. The bytes are exactly those `RecordBox.seal` writes (sorted keys, `/`
/// unescaped, JSONEncoder's escapes), which the tests check against it.
enum RecordPlaintext {
    /// `RecordBox.seal(doc, .untouched, id:, key:)`, faster.
    static func sealUntouched(_ doc: TipDocument, id: TipID, key: VaultDataKey) -> [UInt8] {
        var plain = untouched(doc)
        defer { zero(&plain) }
        return plain.withUnsafeBytes { key.sealRecord($0, id: id) }
    }

    /// `{"document":{…},"triage":<untouched>,"v":1}`.
    static func untouched(_ doc: TipDocument) -> [UInt8] {
        // JSONEncoder's sorted keys are in UTF-8 byte order (not String's, which normalizes).
        let keys = doc.fields.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var out = [UInt8]()
        out.reserveCapacity(doc.body.utf8.count + 64 + untouchedTriage.count + doc.fields.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        out.append(contentsOf: #"{"document":{"body":"#.utf8)
        appendString(doc.body, to: &out)
        if !keys.isEmpty {
            out.append(contentsOf: #","fields":{"#.utf8)
            for (i, k) in keys.enumerated() {
                if i > 0 { out.append(0x2c) }
                appendString(k, to: &out)
                out.append(0x3a)
                appendString(doc.fields[k]!, to: &out)
            }
            out.append(0x7d)
        }
        if let lang = doc.lang {
            out.append(contentsOf: #","lang":"#.utf8)
            appendString(lang, to: &out)
        }
        out.append(contentsOf: #"},"triage":"#.utf8)
        out.append(contentsOf: untouchedTriage)
        out.append(contentsOf: #","v":1}"#.utf8)
        return out
    }

    /// `Triage.untouched` as `RecordBox.seal`'s encoder writes it.
    static let untouchedTriage: [UInt8] = {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try! enc.encode(Triage.untouched))
    }()

    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string as JSONEncoder writes it: `"` and `\` escaped, the controls below 0x20 as
    /// `\b \t \n \f \r` or `\u00xx`, everything else (`/`, DEL, U+2028) as itself.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { u in
            var run = 0
            for (i, b) in u.enumerated() where b < 0x20 || b == 0x22 || b == 0x5c {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: u[run..<i]))
                run = i + 1
                switch b {
                case 0x22: out.append(contentsOf: [0x5c, 0x22])
                case 0x5c: out.append(contentsOf: [0x5c, 0x5c])
                case 0x08: out.append(contentsOf: [0x5c, 0x62])
                case 0x09: out.append(contentsOf: [0x5c, 0x74])
                case 0x0a: out.append(contentsOf: [0x5c, 0x6e])
                case 0x0c: out.append(contentsOf: [0x5c, 0x66])
                case 0x0d: out.append(contentsOf: [0x5c, 0x72])
                default: out.append(contentsOf: [0x5c, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xf)]])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: u[run..<u.count]))
        }
        out.append(0x22)
    }
}
