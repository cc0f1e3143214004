import Foundation
import TipCore

@testable import TipDesk

// The matcher the rules used before `RuleMatcher` (a sorted vocabulary per tip, binary-searched
// per term), kept here as the reference `RuleMatcherTests` compares the table against.

extension Rules {
    func referenceSuggest(body: String, fields: [String: String] = [:], lang: String? = nil) -> Suggestion {
        let text = RuleWordIndex([body] + fields.keys.sorted().map { fields[$0]! })
        var s = Suggestion()
        for r in compiled where r.referenceApplies(to: lang) && r.referenceMatches(text) {
            s.matched.append(r.id)
            if s.category == nil { s.category = r.category }
            if let u = r.urgency { s.urgency = min(s.urgency ?? u, u) }
        }
        return s
    }
}

extension CompiledRule {
    func referenceApplies(to lang: String?) -> Bool {
        guard !langs.isEmpty, let lang = lang?.lowercased() else { return true }
        return langs.contains { lang == $0 || lang.hasPrefix($0 + "-") }
    }

    func referenceMatches(_ text: RuleWordIndex) -> Bool {
        any.contains(where: text.contains) && all.allSatisfy { $0.contains(where: text.contains) }
    }
}

extension RuleTermWord {
    func matches(_ w: ArraySlice<UInt8>) -> Bool {
        switch self {
        case .prefix(let p): return RuleWordIndex.hasPrefix(w, p)
        case .exact(let e): return w.count == e.count && RuleWordIndex.hasPrefix(w, e)
        case .minorAge: return Self.isMinorAge(w)
        }
    }
}

/// The words of a tip, with a sorted vocabulary so a stem finds its words by binary search
/// instead of a scan of the whole text per term: a tip may be 256 KiB and a rule set has
/// hundreds of terms. Text and words are normalized bytes, compared with `memcmp`.
struct RuleWordIndex {
    /// Each text (body, then field values) normalized, and its words as ranges of it.
    private let texts: [(bytes: [UInt8], words: [Range<Int>])]
    /// Distinct words in byte order, each with where it occurs (text, position).
    private let vocabulary: [(word: ArraySlice<UInt8>, at: [(Int, Int)])]
    private let numbers: [(Int, Int)]

    init(_ strings: [String]) {
        var texts = [(bytes: [UInt8], words: [Range<Int>])]()
        var at = [ArraySlice<UInt8>: [(Int, Int)]]()
        var numbers = [(Int, Int)]()
        for (t, s) in strings.enumerated() {
            let b = Array(TextSearch.normalize(s).utf8)
            var words = [Range<Int>]()
            var start = 0
            for i in 0...b.count where i == b.count || b[i] == 0x20 {
                if i > start { words.append(start..<i) }
                start = i + 1
            }
            for (i, r) in words.enumerated() {
                at[b[r], default: []].append((t, i))
                if RuleTermWord.isMinorAge(b[r]) { numbers.append((t, i)) }
            }
            texts.append((b, words))
        }
        self.texts = texts
        vocabulary = at.map { ($0.key, $0.value) }.sorted { Self.less($0.word, $1.word) }
        self.numbers = numbers
    }

    static func less(_ a: ArraySlice<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        a.withUnsafeBufferPointer { pa in
            b.withContiguousStorageIfAvailable { pb in
                let n = Swift.min(pa.count, pb.count)
                let c = n == 0 ? 0 : memcmp(pa.baseAddress!, pb.baseAddress!, n)
                return c != 0 ? c < 0 : pa.count < pb.count
            } ?? a.lexicographicallyPrecedes(b)
        }
    }

    static func hasPrefix(_ w: ArraySlice<UInt8>, _ p: [UInt8]) -> Bool {
        guard w.count >= p.count else { return false }
        if p.isEmpty { return true }
        return w.withUnsafeBufferPointer { pw in p.withUnsafeBufferPointer { pp in memcmp(pw.baseAddress!, pp.baseAddress!, pp.count) == 0 } }
    }

    func contains(_ term: RuleTerm) -> Bool {
        guard let first = term.first else { return false }
        return candidates(first).contains { t, i in
            let text = texts[t]
            guard i + term.count <= text.words.count else { return false }
            return term.indices.dropFirst().allSatisfy { j in term[j].matches(text.bytes[text.words[i + j]]) }
        }
    }

    /// Positions of the words `w` matches.
    private func candidates(_ w: RuleTermWord) -> [(Int, Int)] {
        switch w {
        case .minorAge: return numbers
        case .exact(let e), .prefix(let e):
            // The words starting with `e` are a contiguous run from the first word ≥ `e`.
            var lo = 0
            var hi = vocabulary.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if Self.less(vocabulary[mid].word, e) { lo = mid + 1 } else { hi = mid }
            }
            var out = [(Int, Int)]()
            while lo < vocabulary.count, Self.hasPrefix(vocabulary[lo].word, e) {
                if w.matches(vocabulary[lo].word) { out += vocabulary[lo].at }
                lo += 1
            }
            return out
        }
    }
}
