import Foundation

/// Phrase redaction for forwards (SECURITY.md §11.2). A reviewer types a name as it looks; the
/// witness may have written it with a no-break space, a zero-width character, a soft hyphen,
/// another letter case, accents, fullwidth letters or Latin letters that look Cyrillic. So
/// phrases are matched on a folded form of both texts, every match in the original text is
/// found first, each is widened to the whole words it touches (so "Рустам" also hides the
/// inflected "Рустама", and no stem is left beside the mark), overlapping matches are merged,
/// and each merged run becomes one █. Folding only ever matches more, never less:
/// over-redaction is the safe direction.
public enum Redaction {
    /// One scalar of folded text and the index of the original scalar it came from.
    struct Folded {
        var scalars: [Unicode.Scalar] = []
        var origin: [Int] = []
    }

    /// Latin and Cyrillic letters that look alike (after lowercasing), folded to one letter so
    /// that a name typed in one script finds it written in the other.
    static let lookalikes: [UInt32: Unicode.Scalar] = [
        0x0430: "a", 0x0435: "e", 0x043e: "o", 0x0440: "p", 0x0441: "c", 0x0443: "y", 0x0445: "x",
        0x0456: "i", 0x0458: "j", 0x0455: "s", 0x04bb: "h", 0x0501: "d", 0x04cf: "l", 0x0491: "r",
        0x0451: "e", 0x0457: "i",
    ]

    static let apostrophes: Set<UInt32> = [0x27, 0x60, 0xb4, 0x2bb, 0x2bc, 0x2bd, 0x2018, 0x2019]

    /// Folds `s`: default-ignorable scalars (zero-width characters, soft hyphen, BOM) dropped;
    /// every white space a single space, runs of spaces one; compatibility decomposition
    /// (fullwidth and ligatures), combining marks dropped, lowercase, look-alike letters
    /// folded.
    static func fold(_ s: String) -> Folded {
        var f = Folded()
        for (i, u) in s.unicodeScalars.enumerated() {
            let p = u.properties
            // Default-ignorable scalars, and the apostrophes of Uzbek oʻ and gʻ however typed.
            if p.isDefaultIgnorableCodePoint || apostrophes.contains(u.value) { continue }
            if p.isWhitespace {
                if f.scalars.last != " " {
                    f.scalars.append(" ")
                    f.origin.append(i)
                }
                continue
            }
            for d in String(u).decomposedStringWithCompatibilityMapping.unicodeScalars {
                let c = d.properties.generalCategory
                if c == .nonspacingMark || c == .enclosingMark || c == .spacingMark { continue }
                for l in d.properties.lowercaseMapping.unicodeScalars {
                    let v = lookalikes[l.value] ?? l
                    if v == " " || v.properties.isWhitespace {
                        if f.scalars.last != " " {
                            f.scalars.append(" ")
                            f.origin.append(i)
                        }
                    } else {
                        f.scalars.append(v)
                        f.origin.append(i)
                    }
                }
            }
        }
        return f
    }

    /// The folded phrase as the matcher looks for it: trimmed of spaces at either end.
    static func key(_ phrase: String) -> [Unicode.Scalar] {
        var k = fold(phrase).scalars
        while k.first == " " { k.removeFirst() }
        while k.last == " " { k.removeLast() }
        return k
    }

    /// The original scalar ranges where `phrase` occurs in `text` (folded). A space in the
    /// phrase matches any run of spaces in the text, or none: a word joiner or zero-width space
    /// between two names folds to nothing, and the names still match.
    static func matches(_ phrase: [Unicode.Scalar], in f: Folded) -> [ClosedRange<Int>] {
        guard let first = phrase.first else { return [] }
        let text = f.scalars
        var out = [ClosedRange<Int>]()
        for start in text.indices where text[start] == first {
            var t = start
            var p = 0
            while p < phrase.count {
                if phrase[p] == " " {
                    while t < text.count, text[t] == " " { t += 1 }
                    p += 1
                } else if t < text.count, text[t] == phrase[p] {
                    t += 1
                    p += 1
                } else {
                    break
                }
            }
            if p == phrase.count { out.append(f.origin[start]...f.origin[t - 1]) }
        }
        return out
    }

    /// True if any of `phrases` occurs in `text`, folded.
    public static func contains(_ text: String, any phrases: [String]) -> Bool {
        let f = fold(text)
        return phrases.contains { !matches(key($0), in: f).isEmpty }
    }

    /// Replaces every occurrence of every phrase with one █ per merged run, and says how many
    /// times each phrase matched. Combining marks and ignorable scalars right after a match go
    /// with it, so no accent or zero-width tail is left dangling.
    public static func redact(_ text: String, phrases: [String]) -> (text: String, counts: [Int]) {
        let f = fold(text)
        let scalars = Array(text.unicodeScalars)
        var ranges = [ClosedRange<Int>]()
        var counts = [Int]()
        for p in phrases {
            let m = matches(key(p), in: f)
            counts.append(m.count)
            ranges += m
        }
        guard !ranges.isEmpty else { return (text, counts) }
        var merged = [ClosedRange<Int>]()
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            var start = r.lowerBound
            var end = r.upperBound
            while start > 0, isWord(scalars[start - 1]) || isTail(scalars[start - 1]) { start -= 1 }
            while end + 1 < scalars.count, isWord(scalars[end + 1]) || isTail(scalars[end + 1]) { end += 1 }
            let r = start...end
            if let last = merged.last, r.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        var out = String.UnicodeScalarView()
        var i = 0
        for r in merged {
            out.append(contentsOf: scalars[i..<r.lowerBound])
            out.append(contentsOf: redactionMark.unicodeScalars)
            i = r.upperBound + 1
        }
        out.append(contentsOf: scalars[i...])
        return (String(out), counts)
    }

    static func isWord(_ u: Unicode.Scalar) -> Bool {
        let p = u.properties
        return p.isAlphabetic || p.numericType != nil || "ʻʼ'’`".unicodeScalars.contains(u)
    }

    static func isTail(_ u: Unicode.Scalar) -> Bool {
        let p = u.properties
        let c = p.generalCategory
        return p.isDefaultIgnorableCodePoint || c == .nonspacingMark || c == .enclosingMark || c == .spacingMark
    }
}
