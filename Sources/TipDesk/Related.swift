import Foundation
import TipCore

/// An opened tip, as far as finding related tips needs it.
public struct RelatedItem: Sendable {
    public let id: TipID
    public let body: String
    public let fields: [String: String]

    public init(id: TipID, body: String, fields: [String: String] = [:]) {
        self.id = id
        self.body = body
        self.fields = fields
    }
}

/// Why a tip is shown as related.
public enum RelatedReason: String, Codable, CaseIterable, Sendable {
    /// The bodies are near-duplicates: the same witness sending again, or one text passed
    /// around and sent by several people.
    case nearDuplicate = "near_duplicate"
    /// The same `contact` value: the same witness, or the same recruiter's number.
    case sameContact = "same_contact"
    /// The same `where` value: the same place.
    case samePlace = "same_place"
}

public struct RelatedMatch: Equatable, Sendable {
    public let id: TipID
    /// Jaccard similarity of the bodies' word 3-shingles, 0 to 1. Reported for every match,
    /// not only near-duplicates, so the reviewer sees how alike two tips sharing a place are.
    public let similarity: Double
    /// In `RelatedReason.allCases` order; never empty.
    public let reasons: [RelatedReason]
}

/// Finds tips that are probably about the same thing. Pure and in memory: the vault keeps
/// tips sealed, so this runs over tips opened for the session and stores nothing.
public enum Related {
    public static let defaultThreshold = 0.5
    public static let shingleSize = 3
    /// Shorter normalized `contact`/`where` values are too generic to link tips ("no", "-").
    public static let minFieldKeyLength = 4

    /// The tips related to `target`, most similar first (ties keep input order). Empty if
    /// `target` is not among `items`. The target itself is never in the result.
    public static func find(_ target: TipID, in items: [RelatedItem], threshold: Double = defaultThreshold) -> [RelatedMatch] {
        guard let t = items.first(where: { $0.id == target }) else { return [] }
        let tShingles = shingles(t.body)
        let tContact = fieldKey(t.fields, "contact")
        let tPlace = fieldKey(t.fields, "where")
        var out = [(Int, RelatedMatch)]()
        for (i, item) in items.enumerated() where item.id != target {
            let score = jaccard(tShingles, shingles(item.body))
            var reasons = [RelatedReason]()
            if score >= threshold { reasons.append(.nearDuplicate) }
            if let tContact, tContact == fieldKey(item.fields, "contact") { reasons.append(.sameContact) }
            if let tPlace, tPlace == fieldKey(item.fields, "where") { reasons.append(.samePlace) }
            if !reasons.isEmpty { out.append((i, RelatedMatch(id: item.id, similarity: score, reasons: reasons))) }
        }
        out.sort { a, b in a.1.similarity != b.1.similarity ? a.1.similarity > b.1.similarity : a.0 < b.0 }
        return out.map(\.1)
    }

    /// The set of word `shingleSize`-grams of the normalized text. A text with fewer words
    /// than that is one shingle of all its words, so two short identical tips still match.
    static func shingles(_ text: String) -> Set<String> {
        let words = TextSearch.words(text)
        if words.isEmpty { return [] }
        if words.count < shingleSize { return [words.joined(separator: " ")] }
        var out = Set<String>()
        for i in 0...(words.count - shingleSize) {
            out.insert(words[i..<(i + shingleSize)].joined(separator: " "))
        }
        return out
    }

    static func jaccard(_ a: Set<String>, _ b: Set<String>) -> Double {
        if a.isEmpty || b.isEmpty { return 0 }
        let common = a.intersection(b).count
        return Double(common) / Double(a.count + b.count - common)
    }

    /// Non-answers witnesses type into an optional field, normalized and without spaces.
    static let nonAnswers: Set<String> = [
        "none", "nothing", "anonymous", "anon", "unknown", "dontknow", "nope",
        "аноним", "анонимно", "никак", "неизвестно", "незнаю", "немае",
        "yoq", "иук", "bilmayman", "номаълум", "билмаиман", "билбеим", "намедонам", "нест",
    ]

    /// The comparable form of field `name` (matched ignoring case and diacritics): normalized,
    /// spaces removed, so "+7 999 123-45-67" equals "+79991234567" and "ул. Ленина 5" equals
    /// "ул Ленина, 5". Nil when absent, too short or a non-answer.
    static func fieldKey(_ fields: [String: String], _ name: String) -> String? {
        // Sorted, so that of "Contact" and "contact" the same one wins every time.
        guard let k = fields.keys.sorted().first(where: { TextSearch.normalize($0) == name }), let value = fields[k] else { return nil }
        let key = TextSearch.normalize(value).replacingOccurrences(of: " ", with: "")
        guard key.count >= minFieldKeyLength, !nonAnswers.contains(key) else { return nil }
        return key
    }
}
