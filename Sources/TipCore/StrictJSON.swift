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

/// Standard base64 (RFC 4648 §4) with padding and nothing else: no whitespace, no URL alphabet.
public enum StrictBase64 {
    public static func decode(_ s: String) -> Data? {
        let u = s.utf8
        guard u.count % 4 == 0 else { return nil }
        for c in u {
            switch c {
            case 0x41...0x5a, 0x61...0x7a, 0x30...0x39, 0x2b, 0x2f, 0x3d: continue
            default: return nil
            }
        }
        guard let d = Data(base64Encoded: s) else { return nil }
        // Reject non-canonical encodings (stray bits in the last symbol) so one ciphertext has
        // exactly one submission form.
        guard d.base64EncodedString() == s else { return nil }
        return d
    }
}
