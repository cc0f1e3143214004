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
    /// message (which may quote input) reaches a client or a log.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let e as FormatError {
            throw e
        } catch {
            throw FormatError.invalidJSON("not a JSON object of the expected shape")
        }
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
