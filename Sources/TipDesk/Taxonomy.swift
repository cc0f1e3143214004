import Foundation

/// The categories a reviewer files tips under. Ids are stable (triage records and rules store
/// them); labels are for people and may be edited or translated freely.
///
/// The config is a JSON object, closed like every tipgate format (SECURITY.md §1):
///
///     {"categories":[{"id":"forced_labour","label":"Forced labour"}, …]}
///
/// Order is kept: it is the order a reviewer sees the categories in.
public struct Taxonomy: Equatable, Sendable {
    public struct Category: Codable, Equatable, Sendable {
        public let id: String
        public let label: String

        public init(id: String, label: String) {
            self.id = id
            self.label = label
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: MemberKey.self)
            try MemberKey.rejectUnknown(c, allowed: ["id", "label"], in: "a category")
            id = try c.decode(String.self, forKey: MemberKey("id"))
            label = try c.decode(String.self, forKey: MemberKey("label"))
        }
    }

    public static let maxLabelBytes = 200
    public static let maxCategories = 200

    public let categories: [Category]

    /// The seeded categories: the forms of trafficking a hotline in the region most often
    /// hears about, plus `other` so every tip can be filed.
    public static let seeded = try! Taxonomy(categories: [
        Category(id: "sexual_exploitation", label: "Sexual exploitation"),
        Category(id: "forced_labour", label: "Forced labour"),
        Category(id: "child_at_risk", label: "Child at risk"),
        Category(id: "debt_bondage", label: "Debt bondage"),
        Category(id: "document_confiscation", label: "Document confiscation"),
        Category(id: "official_complicity", label: "Official complicity"),
        Category(id: "supply_chain", label: "Supply chain"),
        Category(id: "other", label: "Other"),
    ])

    public init(categories: [Category]) throws {
        self.categories = categories
        try validate()
    }

    public func contains(_ id: String) -> Bool { categories.contains { $0.id == id } }

    public func label(for id: String) -> String? { categories.first { $0.id == id }?.label }

    /// The id whose label is `label`, ignoring case and diacritics (so "forced labour" finds
    /// `forced_labour`), or nil.
    public func id(forLabel label: String) -> String? {
        let want = TextSearch.normalize(label)
        return categories.first { TextSearch.normalize($0.label) == want }?.id
    }

    /// `^[a-z0-9_]{1,40}$`
    public static func isValidID(_ id: String) -> Bool {
        let u = id.utf8
        return (1...40).contains(u.count)
            && u.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5f }
    }

    public func validate() throws {
        guard !categories.isEmpty, categories.count <= Self.maxCategories else {
            throw DeskError(
                "a taxonomy has 1 to \(Self.maxCategories) categories, this one has \(categories.count)",
                hints: ["keep at least the category other"])
        }
        var seen = Set<String>()
        for c in categories {
            guard Self.isValidID(c.id) else {
                throw DeskError(
                    "\(TerminalText.preview(c.id, limit: 50)) is not a valid category id",
                    hints: ["ids are 1 to 40 characters of a-z, 0-9 and _, like forced_labour"])
            }
            guard seen.insert(c.id).inserted else {
                throw DeskError("the category id \(c.id) appears twice", hints: ["each id must be unique"])
            }
            let n = c.label.utf8.count
            guard n >= 1, n <= Self.maxLabelBytes, !c.label.unicodeScalars.contains(where: Triage.isControl) else {
                throw DeskError(
                    "the label of \(c.id) must be 1 to \(Self.maxLabelBytes) bytes of plain text",
                    hints: ["labels are one line, with no control characters"])
            }
        }
    }

    /// Parses and validates a config. Unknown members are refused rather than dropped, so a
    /// misspelt key cannot silently lose what the reviewer meant.
    public static func decode(_ data: Data) throws -> Taxonomy {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: data)
        } catch let e as DeskError {
            throw e
        } catch {
            throw DeskError(
                "the taxonomy is not valid JSON of the expected shape",
                hints: [#"it must look like {"categories":[{"id":"forced_labour","label":"Forced labour"}]}"#])
        }
        return try Taxonomy(categories: wire.categories)
    }

    /// Sorted keys, pretty-printed: the file is meant to be edited by hand.
    public func encoded() -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try! enc.encode(Wire(categories: categories))
        data.append(0x0a)
        return data
    }

    struct Wire: Codable {
        var categories: [Category]

        init(categories: [Category]) { self.categories = categories }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: MemberKey.self)
            try MemberKey.rejectUnknown(c, allowed: ["categories"], in: "the taxonomy")
            categories = try c.decode([Category].self, forKey: MemberKey("categories"))
        }
    }
}

/// Any member name, so the reviewer's config files can be closed like the wire formats.
struct MemberKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }

    static func rejectUnknown(_ c: KeyedDecodingContainer<MemberKey>, allowed: Set<String>, in what: String) throws {
        for k in c.allKeys where !allowed.contains(k.stringValue) {
            throw DeskError(
                "\(what) has an unknown member \(TerminalText.preview(k.stringValue, limit: 40))",
                hints: ["the allowed members are: " + allowed.sorted().joined(separator: ", ")])
        }
    }
}
