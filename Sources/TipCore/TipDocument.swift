import Foundation

/// The plaintext a witness writes (SECURITY.md §3.2). Only ever exists in the witness's browser
/// or CLI, in the server's memory on the no-JS path, and in the reviewer's memory.
public struct TipDocument: Equatable, Sendable {
    public static let version = 1
    public static let maxBodyBytes = 262_144
    public static let maxFields = 32
    public static let maxFieldKeyBytes = 64
    public static let maxFieldValueBytes = 4096
    public static let maxLangBytes = 35

    public var body: String
    public var fields: [String: String]
    public var lang: String?

    /// Builds a document, enforcing every v1 limit.
    public init(body: String, fields: [String: String] = [:], lang: String? = nil) throws {
        self.body = body
        self.fields = fields
        self.lang = lang
        try validate()
    }

    public func validate() throws {
        let n = body.utf8.count
        guard n >= 1 else { throw FormatError("empty_body", "the tip body is empty") }
        guard n <= Self.maxBodyBytes else {
            throw FormatError("body_too_long", "the tip body is over \(Self.maxBodyBytes) bytes")
        }
        guard fields.count <= Self.maxFields else {
            throw FormatError("too_many_fields", "a tip has at most \(Self.maxFields) fields")
        }
        for (k, v) in fields {
            guard !k.isEmpty, k.utf8.count <= Self.maxFieldKeyBytes else {
                throw FormatError("bad_field", "field names are 1 to \(Self.maxFieldKeyBytes) bytes")
            }
            guard v.utf8.count <= Self.maxFieldValueBytes else {
                throw FormatError("bad_field", "field values are at most \(Self.maxFieldValueBytes) bytes")
            }
        }
        if let lang {
            let ok =
                !lang.isEmpty && lang.utf8.count <= Self.maxLangBytes
                && lang.utf8.allSatisfy { c in
                    (0x30...0x39).contains(c) || (0x41...0x5a).contains(c) || (0x61...0x7a).contains(c) || c == 0x2d
                }
            guard ok else { throw FormatError("bad_lang", "lang must be a language tag like \"ru\" or \"uz-Latn\"") }
        }
    }

    /// The canonical encoding this implementation writes: UTF-8 JSON with sorted keys.
    /// Readers MUST NOT depend on member order (the browser writes its own order).
    public func encoded() -> Data {
        StrictJSON.encode(Wire(v: Self.version, body: body, fields: fields.isEmpty ? nil : fields, lang: lang))
    }

    /// Parses and validates unpadded document bytes.
    public static func decode(_ data: Data) throws -> TipDocument {
        if let doc = try data.withUnsafeBytes(plain) { return doc }
        return try strict(data)
    }

    /// `decode` through `StrictJSON` alone: every document the plain reader leaves.
    static func strict(_ data: Data) throws -> TipDocument {
        let w = try StrictJSON.decode(Wire.self, from: data)
        guard w.v == version else { throw FormatError("unsupported_version", "tip document version \(w.v) is not supported") }
        return try TipDocument(body: w.body, fields: w.fields ?? [:], lang: w.lang)
    }

    struct Wire: Codable {
        var v: Int
        var body: String
        var fields: [String: String]?
        var lang: String?

        init(v: Int, body: String, fields: [String: String]?, lang: String?) {
            self.v = v
            self.body = body
            self.fields = fields
            self.lang = lang
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["v", "body", "fields", "lang"])
            v = try c.require(Int.self, "v")
            body = try c.require(String.self, "body")
            fields = try c.optional([String: String].self, "fields")
            lang = try c.optional(String.self, "lang")
        }
    }
}
