import Dispatch
import Foundation
import TipCore

/// Search over opened tips, in memory only: the vault keeps tips sealed, so there is no index
/// on disk to leak what a tip says. Every search normalizes the text again, spread over all
/// cores; `FoldTable` makes that a table lookup per character instead of Foundation's
/// Unicode machinery (issue 9: the profile had normalizing at 40% of a search).
public enum TextSearch {
    /// Folds text so that a reviewer typing on a plain Latin or Russian keyboard finds what a
    /// witness wrote: lowercase; diacritics dropped (NFKD, then combining marks removed, so
    /// ё→е and й→и); the letters of Uzbek, Kyrgyz, Tajik and Ukrainian Cyrillic that a Russian
    /// keyboard lacks folded to their nearest Russian letter (ғ→г, қ→к, ҳ→х, ҷ→ч, ң→н, ө→о,
    /// ү→у, ӣ→и, ӯ→у, ў→у, і→и, ї→и, є→е, ґ→г); apostrophes deleted, so Uzbek oʻ, gʻ typed
    /// with any of ʻ ‘ ’ ' ʼ ` equal plain o, g (and "don't" is "dont"); every other character
    /// that is not a letter or digit becomes a space; runs of spaces collapse to one, with none
    /// at either end. Other Cyrillic letters stay distinct.
    ///
    /// The definition is `referenceNormalize`; this gives the same result faster (`FoldTable`).
    public static func normalize(_ s: String) -> String {
        var u = s
        return u.withUTF8 { raw in
            var out = [UInt8]()
            guard FoldTable.shared.fold(raw, into: &out) == .simple else { return referenceNormalize(s) }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// The definition of `normalize`, with Foundation's lowercasing and NFKD over the whole
    /// string. Used where the fast path cannot promise the same answer, and by tests.
    static func referenceNormalize(_ s: String) -> String {
        var dropped = String.UnicodeScalarView()
        for u in s.lowercased().unicodeScalars where !apostrophes.contains(u.value) {
            dropped.append(u)
        }
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for u in String(dropped).decomposedStringWithCompatibilityMapping.unicodeScalars {
            let p = u.properties
            if p.generalCategory == .nonspacingMark || p.generalCategory == .enclosingMark { continue }
            let folded = letterFolds[u.value].flatMap(Unicode.Scalar.init) ?? u
            if isWordScalar(folded) {
                if pendingSpace && !out.isEmpty { out.append(" ") }
                pendingSpace = false
                out.append(folded)
            } else {
                pendingSpace = true
            }
        }
        return String(out)
    }

    /// The words of normalized text.
    public static func words(_ s: String) -> [Substring] {
        normalize(s).split(separator: " ")
    }

    /// True if every word of `query` occurs (as a substring, so a stem finds its inflections)
    /// in at least one of `texts`, both normalized. An empty query matches everything.
    public static func matches(query: String, in texts: [String]) -> Bool {
        let q = Query(query)
        var scratch = Scratch()
        return q.matches(texts, scratch: &scratch)
    }

    /// The ids of the items whose texts match `query` (`matches(query:in:)`), in input order.
    /// The items are cut into chunks and searched with `Workers.perform`: a reviewer's vault
    /// can hold tens of thousands of tips, all decrypted into memory.
    public static func search(
        _ query: String, in items: [(TipID, [String])],
        threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) -> [TipID] {
        let q = Query(query)
        let n = items.count
        if n == 0 { return [] }
        // Several chunks per thread, so one slow chunk does not leave a core idle.
        let chunks = max(1, min(max(1, threads) * 8, n))
        let size = (n + chunks - 1) / chunks
        let hits = ChunkResults<TipID>(count: chunks)
        Workers.perform(iterations: chunks, threads: threads) { c in
            let range = (c * size)..<min(n, (c + 1) * size)
            var found = [TipID]()
            var scratch = Scratch()
            for i in range where q.matches(items[i].1, scratch: &scratch) {
                found.append(items[i].0)
            }
            hits.set(c, found)
        }
        return hits.joined()
    }

    /// Buffers reused from one text to the next within a thread.
    struct Scratch {
        var normalized = [UInt8]()
    }

    /// A normalized query: its words as strings (for the reference comparison) and as bytes.
    struct Query: Sendable {
        let words: [Substring]
        let bytes: [[UInt8]]
        /// Whether every word is made of characters for which a byte comparison is what
        /// `String.contains` decides (`FoldTable.isSimple`); else every text is compared the
        /// reference way.
        let simple: Bool

        init(_ query: String) {
            words = TextSearch.words(query)
            bytes = words.map { Array($0.utf8) }
            simple = words.allSatisfy { $0.unicodeScalars.allSatisfy(FoldTable.isSimple) }
        }

        var isEmpty: Bool { words.isEmpty }

        /// True if every word occurs in at least one of `texts`.
        func matches<S: Sequence>(_ texts: S, scratch: inout Scratch) -> Bool where S.Element == String {
            if words.isEmpty { return true }
            var found = [Bool](repeating: false, count: words.count)
            var left = words.count
            for t in texts {
                var u = t
                let done = u.withUTF8 { raw in matchText(raw, string: t, found: &found, left: &left, scratch: &scratch) }
                if done == true { return true }
            }
            return false
        }

        /// Marks the words found in one text, UTF-8 `raw` (`string` is the same text as a String,
        /// if the caller has one; it is made on demand otherwise). True once every word has been
        /// found; nil if `raw` is not UTF-8 (never for a String).
        func matchText(
            _ raw: UnsafeBufferPointer<UInt8>, string: String? = nil, found: inout [Bool], left: inout Int, scratch: inout Scratch
        ) -> Bool? {
            scratch.normalized.removeAll(keepingCapacity: true)
            let kind = FoldTable.shared.fold(raw, into: &scratch.normalized)
            if kind == .invalid { return nil }
            if kind == .simple && simple {
                scratch.normalized.withUnsafeBufferPointer { hay in
                    for (i, w) in bytes.enumerated() where !found[i] && Bytes.contains(hay, w) {
                        found[i] = true
                        left -= 1
                    }
                }
            } else {
                // Outside what the table can promise: what the reference says.
                let normalized = referenceNormalize(string ?? String(decoding: raw, as: UTF8.self))
                for (i, w) in words.enumerated() where !found[i] && normalized.contains(w) {
                    found[i] = true
                    left -= 1
                }
            }
            return left == 0
        }
    }

    // MARK: - Folding tables

    /// ʼ ʻ ' ‘ ’ ` ´: every mark people type for the Uzbek Latin okina and for apostrophes.
    /// Deleted before NFKD, which would turn ´ into a space and a combining accent.
    static let apostrophes: Set<UInt32> = [0x27, 0x60, 0xb4, 0x2bb, 0x2bc, 0x2bd, 0x2018, 0x2019, 0x2032]

    /// Lowercase letters with no canonical decomposition to a Russian letter. (ӣ ӯ ў ї й ё
    /// decompose, so NFKD plus dropping marks handles them; ї leaves і, folded here.)
    static let letterFolds: [UInt32: UInt32] = [
        0x493: 0x433,  // ғ → г
        0x49b: 0x43a,  // қ → к
        0x4b3: 0x445,  // ҳ → х
        0x4b7: 0x447,  // ҷ → ч
        0x4a3: 0x43d,  // ң → н
        0x4e9: 0x43e,  // ө → о
        0x4af: 0x443,  // ү → у
        0x4e3: 0x438,  // ӣ → и (already decomposed by NFKD; kept for clarity)
        0x4ef: 0x443,  // ӯ → у (likewise)
        0x45e: 0x443,  // ў → у (likewise)
        0x456: 0x438,  // і → и
        0x457: 0x438,  // ї → и
        0x454: 0x435,  // є → е
        0x491: 0x433,  // ґ → г
    ]

    static func isWordScalar(_ u: Unicode.Scalar) -> Bool {
        if u.isASCII {
            let v = u.value
            return (0x30...0x39).contains(v) || (0x61...0x7a).contains(v) || (0x41...0x5a).contains(v)
        }
        let p = u.properties
        return p.isAlphabetic || p.numericType == .decimal
    }
}

/// The per-character form of `TextSearch.referenceNormalize`, as a table.
///
/// Lowercasing is per character in Swift, apostrophes are deleted per character, and NFKD is
/// per character up to the canonical reordering of combining marks, so normalizing a text is
/// folding each character on its own and then collapsing separators, except where a kept mark
/// could be reordered. For each character of the scripts tipgate's witnesses write in (Latin,
/// Greek, Cyrillic, Armenian, general punctuation) the table holds what it folds to: the UTF-8
/// of the letters and digits it leaves, with 0x20 for each separator, and whether the result
/// needs the reference path. Others are folded on the fly the same way.
///
/// A text is `.simple` when every letter it leaves is one a byte comparison treats exactly as
/// `String.contains` does (`isSimple`: one scalar, its own grapheme, no decomposition) and no
/// kept mark could be reordered; then the bytes equal `referenceNormalize` and matching them
/// byte-wise equals matching the strings. Anything else is `.complex`: the caller uses the
/// reference.
struct FoldTable: Sendable {
    enum Kind: Equatable { case simple, complex, invalid }

    static let shared = FoldTable()

    /// Dense ranges of scalars with a table entry: Basic Latin to Armenian, and Latin
    /// Extended Additional, Greek Extended, punctuation, super- and subscripts, letterlike
    /// symbols and number forms.
    static let low: UInt32 = 0x590
    static let highStart: UInt32 = 0x1E00, highEnd: UInt32 = 0x2190

    /// Per slot: start in `pool` << 8 | length << 1 | complex.
    private let entries: [UInt32]
    private let pool: [UInt8]

    init() {
        var entries = [UInt32]()
        var pool = [UInt8]()
        let scalars = Array(0..<Self.low) + Array(Self.highStart..<Self.highEnd)
        entries.reserveCapacity(scalars.count)
        for v in scalars {
            let (bytes, complex) = Self.foldScalar(Unicode.Scalar(v)!)
            precondition(bytes.count < 128)
            entries.append(UInt32(pool.count) << 8 | UInt32(bytes.count) << 1 | (complex ? 1 : 0))
            pool += bytes
        }
        self.entries = entries
        self.pool = pool
    }

    /// One character through the steps of `referenceNormalize`: its letters and digits as
    /// UTF-8, each separator as 0x20; apostrophes and dropped marks leave nothing.
    static func foldScalar(_ u: Unicode.Scalar) -> (bytes: [UInt8], complex: Bool) {
        var out = [UInt8]()
        var complex = false
        for l in String(u).lowercased().unicodeScalars where !TextSearch.apostrophes.contains(l.value) {
            for d in String(l).decomposedStringWithCompatibilityMapping.unicodeScalars {
                let p = d.properties
                if p.generalCategory == .nonspacingMark || p.generalCategory == .enclosingMark { continue }
                // A kept mark with a combining class could be reordered across characters.
                if p.canonicalCombiningClass.rawValue != 0 { complex = true }
                let folded = TextSearch.letterFolds[d.value].flatMap(Unicode.Scalar.init) ?? d
                if TextSearch.isWordScalar(folded) {
                    if !isSimple(folded) { complex = true }
                    out += Array(String(folded).utf8)
                } else {
                    out.append(0x20)
                }
            }
        }
        return (out, complex)
    }

    /// Letters and digits that are one grapheme each and have no decomposition, so a byte
    /// comparison and Foundation's comparison of them agree: ASCII, Latin, IPA, Greek, Cyrillic.
    static func isSimple(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        if v < 0x80 { return TextSearch.isWordScalar(u) }
        guard (0xAA...0x2AF).contains(v) || (0x370...0x3FF).contains(v) || (0x400...0x52F).contains(v) else { return false }
        let p = u.properties
        return p.canonicalCombiningClass.rawValue == 0 && p.generalCategory != .spacingMark
            && (p.isAlphabetic || p.numericType == .decimal)
    }

    /// Appends the normalized form of UTF-8 `s` to `out` (as `referenceNormalize` would give it
    /// when the result is `.simple`); `.invalid` if `s` is not UTF-8.
    func fold(_ s: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) -> Kind {
        out.reserveCapacity(out.count + s.count)
        let start = out.count
        var kind = Kind.simple
        var pending = false
        // Appends tokens: 0x20 marks a separator; other bytes are UTF-8 of letters and digits.
        func emit(_ tokens: UnsafeBufferPointer<UInt8>) {
            for t in tokens {
                if t == 0x20 {
                    pending = true
                } else {
                    if t & 0xC0 != 0x80 {
                        if pending && out.count > start { out.append(0x20) }
                        pending = false
                    }
                    out.append(t)
                }
            }
        }
        return entries.withUnsafeBufferPointer { entries in
            pool.withUnsafeBufferPointer { pool in
                var i = 0
                let n = s.count
                while i < n {
                    let b = s[i]
                    if b < 0x80 {
                        i += 1
                        if (0x61...0x7A).contains(b) || (0x30...0x39).contains(b) {
                            if pending && out.count > start { out.append(0x20) }
                            pending = false
                            out.append(b)
                        } else if (0x41...0x5A).contains(b) {
                            if pending && out.count > start { out.append(0x20) }
                            pending = false
                            out.append(b | 0x20)
                        } else if b != 0x27 && b != 0x60 {
                            pending = true
                        }
                        continue
                    }
                    guard let (v, len) = Self.decode(s, at: i) else { return .invalid }
                    i += len
                    let slot: Int? =
                        v < Self.low ? Int(v) : (v >= Self.highStart && v < Self.highEnd) ? Int(Self.low + v - Self.highStart) : nil
                    if let slot {
                        let e = entries[slot]
                        if e & 1 != 0 { kind = .complex }
                        emit(UnsafeBufferPointer(rebasing: pool[Int(e >> 8)..<Int(e >> 8) + Int((e >> 1) & 0x7F)]))
                    } else {
                        let (bytes, complex) = Self.foldScalar(Unicode.Scalar(v)!)
                        if complex { kind = .complex }
                        bytes.withUnsafeBufferPointer { emit($0) }
                    }
                }
                return kind
            }
        }
    }

    /// The scalar at `i` of well-formed UTF-8 (no overlongs, surrogates or values past
    /// U+10FFFF), and its length; nil otherwise.
    @inline(__always)
    static func decode(_ s: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int)? {
        let b0 = UInt32(s[i])
        let n = s.count
        func cont(_ k: Int) -> UInt32? {
            guard i + k < n else { return nil }
            let c = s[i + k]
            return c & 0xC0 == 0x80 ? UInt32(c & 0x3F) : nil
        }
        if b0 >= 0xC2 && b0 <= 0xDF {
            guard let c1 = cont(1) else { return nil }
            return ((b0 & 0x1F) << 6 | c1, 2)
        }
        if b0 >= 0xE0 && b0 <= 0xEF {
            guard let c1 = cont(1), let c2 = cont(2) else { return nil }
            let v = (b0 & 0x0F) << 12 | c1 << 6 | c2
            guard v >= 0x800, !(0xD800...0xDFFF).contains(v) else { return nil }
            return (v, 3)
        }
        if b0 >= 0xF0 && b0 <= 0xF4 {
            guard let c1 = cont(1), let c2 = cont(2), let c3 = cont(3) else { return nil }
            let v = (b0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3
            guard v >= 0x10000, v <= 0x10FFFF else { return nil }
            return (v, 4)
        }
        return nil
    }
}

/// Byte-string search for the matcher.
enum Bytes {
    /// Whether `needle` occurs in `hay`: memchr for its first byte, then memcmp.
    static func contains(_ hay: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        let m = needle.count
        if m == 0 { return true }
        guard let base = hay.baseAddress, hay.count >= m else { return false }
        return needle.withUnsafeBufferPointer { nb in
            let first = Int32(nb[0])
            var p = base
            let last = base + (hay.count - m)
            while p <= last {
                guard let hit = memchr(p, first, last - p + 1) else { return false }
                let h = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self))
                if memcmp(h, nb.baseAddress!, m) == 0 { return true }
                p = h + 1
            }
            return false
        }
    }
}

/// One slot per chunk of parallel work (search, list, `Parallel.map`), written once each from
/// `Workers.perform`; joined in chunk order.
final class ChunkResults<T>: @unchecked Sendable {
    private var slots: [[T]]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: [], count: count) }

    func set(_ i: Int, _ results: [T]) {
        lock.lock()
        slots[i] = results
        lock.unlock()
    }

    func joined() -> [T] {
        lock.lock()
        defer { lock.unlock() }
        return slots.flatMap { $0 }
    }
}
