import Foundation
import TipCore

/// # Triage rules (format v1)
///
/// Rules suggest a category and an urgency for a tip the reviewer has not triaged yet. They
/// only suggest: the reviewer decides, and a suggestion is never stored as if it were a
/// decision. The default set is `Resources/rules.json`; a reviewer may replace it with their
/// own file of the same format.
///
///     {"v":1,"rules":[
///       {"id":"debt_bondage","category":"debt_bondage","urgency":"high",
///        "any":["owe$","debt","должн за","qarz"],
///        "all":["worker|labour"],
///        "langs":["ru","uz"]}
///     ]}
///
/// The object is closed (SECURITY.md §1): an unknown member is an error, not ignored.
///
/// - `v` is 1.
/// - `rules` is a list. **Order is priority**: the suggested category is the category of the
///   first matching rule that has one; the suggested urgency is the most urgent of every
///   matching rule that has one. So a rule with only an urgency (say, "right now") can raise
///   the urgency of any tip without deciding its category.
/// - `id` is unique, `^[a-z0-9_]{1,40}$`. The ids of the matching rules are reported, so a
///   reviewer can see why a suggestion was made.
/// - `category` (optional) is a taxonomy id; `urgency` (optional) is `critical`, `high`,
///   `normal` or `low`. A rule has at least one of them.
/// - `any` is a non-empty list of terms; the rule needs at least one to match.
/// - `all` (optional) is a list of groups; every group must match too. A group is one string
///   of terms separated by `|`, any one of which matching is enough: `"all":["passport|visa",
///   "took|taken"]` needs a word for a document and a word for taking it.
/// - `langs` (optional) limits the rule to tips whose `lang` is one of these tags or a subtag
///   of one (`uz` covers `uz-Latn` and `uz-Cyrl`). A tip without `lang` is matched by every
///   rule: witnesses often leave the language unset, and the words decide anyway.
///
/// A **term** is one or more words, matched against consecutive words of the tip's body and of
/// each field value (not across them). Terms and text are both normalized with
/// `TextSearch.normalize`, so case, diacritics, apostrophes and the letters that differ
/// between the Cyrillic alphabets do not matter (`"ҳужжат"` is `"хужжат"`, `"qo'y"` is
/// `"qoy"`). Each word of a term matches:
///
/// - by default, any word that **starts with** it: the term is a stem, so `паспорт` matches
///   `паспорта` and `паспортов`, and `pasport` matches `pasportlarini`. Stems of Turkic and
///   Slavic words should stop before the endings.
/// - `word$`: only that exact word. For short stems that would match unrelated longer words
///   (`kid$` must not match "kidney", `долг$` must not match "долго").
/// - `#minor`: a whole number from 1 to 17, an age under 18: `"#minor yosh"` matches
///   "15 yoshli". Written-out ages need their own terms.
///
/// Rules see words, not meaning: they miss what a witness says in an unusual way and fire on a
/// word used in another sense. That is acceptable for a suggestion a person checks, not more.
///
/// ## The default rules
///
/// `Resources/rules.json` covers English, Russian, Ukrainian, Uzbek (Latin and Cyrillic),
/// Kyrgyz and Tajik. Urgency-only rules come first (imminent danger, a threat to life and a
/// minor by apparent age are critical; violence is high). Then the categories, most specific
/// first: a stated minor (`child_at_risk`); police or officials with money, protection or
/// returning people (`official_complicity`); sex work, saunas, massage (`sexual_exploitation`);
/// a supplier to a brand or retail chain (`supply_chain`); a locked door (`forced_labour`, no
/// urgency of its own); debt; documents with a verb of taking or keeping, or "at the boss's";
/// unpaid work; not being let go; forced work; a supplier alone; and last a workplace (factory,
/// field, construction…) as `forced_labour` with no urgency. "In the hands of" is deliberately
/// not a confiscation term: it is as often said of the witness's own papers.
///
/// A rule set, checked and compiled for matching.
public struct Rules: Equatable, Sendable {
    public static let version = 1
    public static let maxRules = 1000
    public static let maxTermBytes = 400

    public struct Rule: Equatable, Sendable {
        public let id: String
        public let category: String?
        public let urgency: Urgency?
        public let any: [String]
        public let all: [String]
        public let langs: [String]

        public init(
            id: String, category: String? = nil, urgency: Urgency? = nil, any: [String], all: [String] = [],
            langs: [String] = []
        ) {
            self.id = id
            self.category = category
            self.urgency = urgency
            self.any = any
            self.all = all
            self.langs = langs
        }
    }

    /// What the rules make of one tip.
    public struct Suggestion: Equatable, Sendable {
        /// A taxonomy id, or nil when no rule with a category matched.
        public var category: String?
        public var urgency: Urgency?
        /// The ids of every matching rule, in rule (priority) order.
        public var matched: [String]

        public init(category: String? = nil, urgency: Urgency? = nil, matched: [String] = []) {
            self.category = category
            self.urgency = urgency
            self.matched = matched
        }
    }

    public let rules: [Rule]
    /// Internal for the tests, which check `matcher` against the matcher it replaced.
    let compiled: [CompiledRule]
    private let matcher: RuleMatcher

    /// Checks and compiles `rules`. With a taxonomy, every category must be in it.
    public init(rules: [Rule], taxonomy: Taxonomy? = nil) throws {
        guard rules.count <= Self.maxRules else {
            throw DeskError("a rule set has at most \(Self.maxRules) rules", hints: ["merge rules that set the same category"])
        }
        var seen = Set<String>()
        var compiled = [CompiledRule]()
        var matcher = RuleMatcher()
        for r in rules {
            guard Taxonomy.isValidID(r.id) else {
                throw DeskError(
                    "\(TerminalText.preview(r.id, limit: 50)) is not a valid rule id",
                    hints: ["rule ids are 1 to 40 characters of a-z, 0-9 and _"])
            }
            guard seen.insert(r.id).inserted else {
                throw DeskError("the rule id \(r.id) appears twice", hints: ["each rule needs its own id"])
            }
            compiled.append(try CompiledRule(r, taxonomy: taxonomy, matcher: &matcher))
        }
        self.rules = rules
        self.compiled = compiled
        self.matcher = matcher
    }

    public static func == (a: Rules, b: Rules) -> Bool { a.rules == b.rules }

    /// The default rules shipped in the TipDesk resources.
    public static func bundled(taxonomy: Taxonomy? = Taxonomy.seeded) throws -> Rules {
        // SwiftPM's `Bundle.module` traps when the bundle is missing: check first, so a binary
        // copied without its resources gets this error and its hint instead of a crash.
        guard FileManager.default.fileExists(atPath: Bundle.main.bundleURL.appendingPathComponent("tipgate_TipDesk.resources").path),
            let url = Bundle.module.url(forResource: "rules", withExtension: "json", subdirectory: "Resources"),
            let data = try? Data(contentsOf: url)
        else {
            throw DeskError(
                "the default triage rules are missing next to the binary",
                hints: ["install the tipdesk resource bundle with the binary, or give a rules file"])
        }
        return try decode(data, taxonomy: taxonomy)
    }

    // MARK: - Suggesting

    public func suggest(_ doc: TipDocument) -> Suggestion {
        suggest(body: doc.body, fields: doc.fields, lang: doc.lang)
    }

    /// Field names are not matched, only their values: the names come from the form, not the
    /// witness.
    public func suggest(body: String, fields: [String: String] = [:], lang: String? = nil) -> Suggestion {
        let found = matcher.find(in: [body] + fields.keys.sorted().map { fields[$0]! })
        let lang = lang?.lowercased()
        var s = Suggestion()
        for r in compiled where r.applies(toLowercased: lang) && r.matches(found, matcher) {
            s.matched.append(r.id)
            if s.category == nil { s.category = r.category }
            if let u = r.urgency { s.urgency = min(s.urgency ?? u, u) }
        }
        return s
    }

    // MARK: - Reading and writing

    public static func decode(_ data: Data, taxonomy: Taxonomy? = nil) throws -> Rules {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: data)
        } catch let e as DeskError {
            throw e
        } catch {
            throw DeskError(
                "the rules file is not valid JSON of the expected shape",
                hints: [#"it must look like {"v":1,"rules":[{"id":"…","category":"…","any":["…"]}]}"#])
        }
        guard wire.v == version else {
            throw DeskError("rules format version \(wire.v) is not supported", hints: ["this tipdesk reads version \(version)"])
        }
        return try Rules(rules: wire.rules.map(\.rule), taxonomy: taxonomy)
    }

    /// Sorted keys, one rule per line, so a hand-edited file diffs cleanly.
    public func encoded() -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = Data(#"{"v":1,"rules":["#.utf8)
        for (i, r) in rules.enumerated() {
            out.append(contentsOf: Array((i == 0 ? "\n" : ",\n").utf8))
            out.append(try! enc.encode(WireRule(r)))
        }
        out.append(contentsOf: Array("\n]}\n".utf8))
        return out
    }

    struct Wire: Decodable {
        var v: Int
        var rules: [WireRule]

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: MemberKey.self)
            try MemberKey.rejectUnknown(c, allowed: ["v", "rules"], in: "the rules file")
            v = try c.decode(Int.self, forKey: MemberKey("v"))
            rules = try c.decode([WireRule].self, forKey: MemberKey("rules"))
        }
    }

    struct WireRule: Codable {
        var rule: Rule

        init(_ rule: Rule) { self.rule = rule }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: MemberKey.self)
            let id = try c.decodeIfPresent(String.self, forKey: MemberKey("id")) ?? ""
            try MemberKey.rejectUnknown(
                c, allowed: ["id", "category", "urgency", "any", "all", "langs"], in: "rule \(TerminalText.preview(id, limit: 40))")
            let urgency = try c.decodeIfPresent(String.self, forKey: MemberKey("urgency")).map { raw in
                guard let u = Urgency(rawValue: raw) else {
                    throw DeskError(
                        "rule \(TerminalText.preview(id, limit: 40)) has an unknown urgency \(TerminalText.preview(raw, limit: 20))",
                        hints: ["urgency is one of: " + Urgency.allCases.map(\.rawValue).joined(separator: ", ")])
                }
                return u
            }
            rule = Rule(
                id: try c.decode(String.self, forKey: MemberKey("id")),
                category: try c.decodeIfPresent(String.self, forKey: MemberKey("category")),
                urgency: urgency,
                any: try c.decode([String].self, forKey: MemberKey("any")),
                all: try c.decodeIfPresent([String].self, forKey: MemberKey("all")) ?? [],
                langs: try c.decodeIfPresent([String].self, forKey: MemberKey("langs")) ?? [])
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: MemberKey.self)
            try c.encode(rule.id, forKey: MemberKey("id"))
            try c.encodeIfPresent(rule.category, forKey: MemberKey("category"))
            try c.encodeIfPresent(rule.urgency?.rawValue, forKey: MemberKey("urgency"))
            try c.encode(rule.any, forKey: MemberKey("any"))
            if !rule.all.isEmpty { try c.encode(rule.all, forKey: MemberKey("all")) }
            if !rule.langs.isEmpty { try c.encode(rule.langs, forKey: MemberKey("langs")) }
        }
    }
}

// MARK: - Compiled rules

/// One word of a term.
enum RuleTermWord: Hashable, Sendable {
    /// Normalized bytes (`TextSearch.normalize`), compared as bytes.
    case prefix([UInt8])
    case exact([UInt8])
    case minorAge

    static func isMinorAge(_ w: some Collection<UInt8>) -> Bool {
        guard (1...2).contains(w.count), w.allSatisfy({ (0x30...0x39).contains($0) }) else { return false }
        let n = w.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        return (1...17).contains(n)
    }
}

/// A term: words that must match consecutive words of one text.
typealias RuleTerm = [RuleTermWord]

/// A class: the rules are walked for every tip, and copying a struct of arrays per rule per tip
/// was reference counting that showed in issue 9's profile.
final class CompiledRule: Sendable {
    let id: String
    let category: String?
    let urgency: Urgency?
    let any: [RuleTerm]
    let all: [[RuleTerm]]
    let langs: [String]
    /// Each of `langs` with a "-": a tag with a subtag of it starts so.
    let subtagPrefixes: [String]
    /// `any` and `all` as checks of the rule set's `RuleMatcher`.
    let anyIDs: [Int32]
    let allIDs: [[Int32]]

    init(_ r: Rules.Rule, taxonomy: Taxonomy?, matcher: inout RuleMatcher) throws {
        let name = "rule \(r.id)"
        if let c = r.category {
            guard Taxonomy.isValidID(c) else {
                throw DeskError(
                    "\(name) has an invalid category id \(TerminalText.preview(c, limit: 50))",
                    hints: ["use an id from the taxonomy, like forced_labour"])
            }
            if let taxonomy, !taxonomy.contains(c) {
                throw DeskError(
                    "\(name) sets the category \(c), which is not in the taxonomy",
                    hints: ["the categories are: " + taxonomy.categories.map(\.id).joined(separator: ", ")])
            }
        }
        guard r.category != nil || r.urgency != nil else {
            throw DeskError("\(name) sets neither a category nor an urgency", hints: ["a rule must suggest something"])
        }
        guard !r.any.isEmpty else {
            throw DeskError("\(name) has no terms in any", hints: ["list at least one word or stem"])
        }
        id = r.id
        category = r.category
        urgency = r.urgency
        any = try r.any.map { try Self.term($0, in: name) }
        all = try r.all.map { group in
            let alternatives = group.split(separator: "|", omittingEmptySubsequences: false)
            return try alternatives.map { try Self.term(String($0), in: name) }
        }
        for tag in r.langs {
            let ok =
                !tag.isEmpty && tag.utf8.count <= TipDocument.maxLangBytes
                && tag.utf8.allSatisfy {
                    (0x30...0x39).contains($0) || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0) || $0 == 0x2d
                }
            guard ok else {
                throw DeskError(
                    "\(name) has an invalid language tag \(TerminalText.preview(tag, limit: 40))", hints: ["use tags like ru or uz-Cyrl"])
            }
        }
        langs = r.langs.map { $0.lowercased() }
        subtagPrefixes = langs.map { $0 + "-" }
        anyIDs = any.map { matcher.add($0) }
        allIDs = all.map { $0.map { matcher.add($0) } }
    }

    static func term(_ raw: String, in name: String) throws -> RuleTerm {
        guard raw.utf8.count <= Rules.maxTermBytes else {
            throw DeskError("\(name) has a term over \(Rules.maxTermBytes) bytes", hints: ["terms are a few words at most"])
        }
        var words = RuleTerm()
        for piece in raw.split(whereSeparator: \.isWhitespace) {
            if piece.hasPrefix("#") {
                guard piece == "#minor" else {
                    throw DeskError(
                        "\(name) has an unknown placeholder \(TerminalText.preview(String(piece), limit: 30))",
                        hints: ["the only placeholder is #minor, a number from 1 to 17"])
                }
                words.append(.minorAge)
                continue
            }
            let exact = piece.hasSuffix("$")
            let parts = TextSearch.words(String(exact ? piece.dropLast() : piece))
            for (i, p) in parts.enumerated() {
                words.append(exact && i == parts.count - 1 ? .exact(Array(p.utf8)) : .prefix(Array(p.utf8)))
            }
        }
        guard !words.isEmpty else {
            throw DeskError(
                "\(name) has an empty term \(TerminalText.preview(raw, limit: 30))",
                hints: ["a term needs at least one letter or digit; check for a stray | or empty string"])
        }
        return words
    }

    /// `lang` already lowercased, once per tip rather than once per rule.
    func applies(toLowercased lang: String?) -> Bool {
        guard !langs.isEmpty, let lang else { return true }
        return langs.indices.contains { lang == langs[$0] || lang.hasPrefix(subtagPrefixes[$0]) }
    }

    func matches(_ found: RuleMatcher.Found, _ matcher: RuleMatcher) -> Bool {
        guard anyIDs.contains(where: { matcher.matches($0, found) }) else { return false }
        for group in allIDs where !group.contains(where: { matcher.matches($0, found) }) { return false }
        return true
    }
}
