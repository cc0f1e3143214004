import Foundation

/// Any JSON object key. Used to reject unknown members: every v1 format is closed
/// (SECURITY.md §1, "Conventions"), so a reader can never silently drop data it does not know.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where Key == AnyKey {
    func rejectUnknown(allowed: Set<String>) throws {
        for key in allKeys where !allowed.contains(key.stringValue) {
            throw FormatError.invalidJSON("an unknown member is present (v1 formats are closed)")
        }
    }

    func require<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        guard contains(AnyKey(stringValue: name)) else {
            throw FormatError.invalidJSON("missing member \"\(name)\"")
        }
        do {
            return try decode(T.self, forKey: AnyKey(stringValue: name))
        } catch let e as FormatError {
            throw e
        } catch {
            throw FormatError.invalidJSON("member \"\(name)\" has the wrong type")
        }
    }

    func optional<T: Decodable>(_ type: T.Type, _ name: String) throws -> T? {
        guard contains(AnyKey(stringValue: name)) else { return nil }
        do {
            return try decode(T.self, forKey: AnyKey(stringValue: name))
        } catch {
            throw FormatError.invalidJSON("member \"\(name)\" has the wrong type")
        }
    }
}

enum StrictJSON {
    /// Decodes one JSON value, mapping every decoder failure to `invalid_json` so no decoder
    /// message (which may quote input) reaches a client or a log. An object that names one
    /// member twice is refused too (SECURITY.md §1, "Conventions"): JSONDecoder would keep one
    /// of them silently, and another reader of the same bytes may keep the other.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let value: T
        do {
            value = try JSONDecoder().decode(T.self, from: data)
        } catch let e as FormatError {
            throw e
        } catch {
            throw FormatError.invalidJSON("not a JSON object of the expected shape")
        }
        if data.withUnsafeBytes(hasDuplicateMember) {
            throw FormatError.invalidJSON("an object names the same member twice")
        }
        return value
    }

    /// Whether an object in `json`, which JSONDecoder has already read as valid JSON, has two
    /// members whose names are equal as Swift strings: the equality JSONDecoder's keys use, so
    /// escapes (`"\u0061"` is `"a"`) and canonically equivalent spellings count as the same.
    static func hasDuplicateMember(_ json: UnsafeRawBufferPointer) -> Bool {
        // One entry per open container: the names seen so far in an object, nil for an array.
        var open = [Set<String>?]()
        var expectingName = false
        var i = 0
        while i < json.count {
            switch json[i] {
            case UInt8(ascii: "\""):
                // In valid JSON a string ends at the first quote not escaped by a backslash.
                let start = i
                var escaped = false
                i += 1
                while i < json.count, json[i] != UInt8(ascii: "\"") || escaped {
                    escaped = !escaped && json[i] == UInt8(ascii: "\\")
                    i += 1
                }
                // `expectingName` is only ever set with an object's names on top.
                if expectingName, i < json.count, let last = open.indices.last {
                    let name = memberName(UnsafeRawBufferPointer(rebasing: json[start...i]))
                    if open[last]!.insert(name).inserted == false { return true }
                    expectingName = false
                }
            case UInt8(ascii: "{"):
                open.append([])
                expectingName = true
            case UInt8(ascii: "["):
                open.append(nil)
                expectingName = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = open.popLast()
                expectingName = false
            case UInt8(ascii: ","):
                expectingName = open.last.map { $0 != nil } ?? false
            default:
                break
            }
            i += 1
        }
        return false
    }

    /// A member name's string value, from its quoted JSON text.
    private static func memberName(_ quoted: UnsafeRawBufferPointer) -> String {
        let inner = UnsafeRawBufferPointer(rebasing: quoted[1..<(quoted.count - 1)])
        guard inner.contains(UInt8(ascii: "\\")) else { return String(decoding: inner, as: UTF8.self) }
        // Escapes are rare in names: let the decoder that read them read them again.
        return (try? JSONDecoder().decode(String.self, from: Data(quoted))) ?? String(decoding: inner, as: UTF8.self)
    }

    static func encode<T: Encodable>(_ value: T) -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding our own closed types cannot fail.
        return try! enc.encode(value)
    }
}

/// Standard base64 (RFC 4648 §4) with padding and nothing else: no whitespace, no URL alphabet,
/// and canonical (no stray bits in the last symbol), so one byte string has exactly one
/// accepted text (§1). One decoder, `CanonicalBase64`, checks all of it by the rules in a single
/// pass: decoding with Foundation and encoding again to compare was 6% of intake's CPU (issue 9).
public enum StrictBase64 {
    public static func decode(_ s: String) -> Data? { bytes(s).map { Data($0) } }

    /// As `decode`, into an array.
    public static func bytes(_ s: String) -> [UInt8]? {
        var s = s
        return s.withUTF8 { CanonicalBase64.decode(UnsafeRawBufferPointer($0)) }
    }
}
